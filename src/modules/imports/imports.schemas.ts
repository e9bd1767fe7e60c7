import { Type, type Static } from 'typebox'

/** Limits of one import request (documented in the route description; 413 beyond). */
export const IMPORT_MAX_ROWS = 100_000
export const IMPORT_MAX_BYTES = 64 * 1024 * 1024
/** At most this many row errors are listed; `errorsTruncated` says when more were found. */
export const IMPORT_MAX_ERRORS = 1000

export const ImportQuery = Type.Object({
  dryRun: Type.Optional(Type.Boolean({ default: false, description: 'Validate and report what would happen without writing anything' })),
  mode: Type.Optional(Type.Enum(['atomic', 'partial'], {
    default: 'atomic',
    description: '`atomic`: every row is written or none (any bad row makes the answer 422); `partial`: the valid rows are written and the bad ones reported'
  }))
}, { additionalProperties: false })
export type ImportQuery = Static<typeof ImportQuery>

export const ImportBody = Type.Object({
  values: Type.Array(Type.Object({}, { additionalProperties: true, description: 'A yearly value, as the body of POST /v1/values' }), {
    description: `The rows (at most ${IMPORT_MAX_ROWS.toLocaleString('en')})`
  })
}, {
  additionalProperties: false,
  examples: [{
    values: [
      { kind: 'actual', regionCode: '330683', indicatorCode: 'hardship-subsidy-beneficiaries', year: 2022, value: '3620', status: 'final', source: '嵊州市残联2022年工作总结' },
      { kind: 'actual', regionCode: '330683', indicatorCode: 'new-employment', year: 2022, value: 85, breakdown: { area: 'rural' } }
    ]
  }]
})

const ImportError = Type.Object({
  row: Type.Integer({ minimum: 1, description: 'Row number, 1-based (for CSV: the data row after the header)' }),
  field: Type.Optional(Type.String()),
  code: Type.String(),
  message: Type.String()
}, { additionalProperties: false })

export const ImportSummary = Type.Object({
  received: Type.Integer({ minimum: 0 }),
  created: Type.Integer({ minimum: 0 }),
  updated: Type.Integer({ minimum: 0 }),
  unchanged: Type.Integer({ minimum: 0 }),
  rejected: Type.Integer({ minimum: 0 }),
  dryRun: Type.Boolean(),
  mode: Type.Enum(['atomic', 'partial']),
  errors: Type.Array(ImportError),
  errorsTruncated: Type.Boolean({ description: `True when more than ${IMPORT_MAX_ERRORS} row errors were found (only the first are listed)` })
}, {
  additionalProperties: false,
  examples: [{ received: 2, created: 1, updated: 0, unchanged: 1, rejected: 0, dryRun: false, mode: 'atomic', errors: [], errorsTruncated: false }]
})
export type ImportSummary = Static<typeof ImportSummary>
