import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import type { FieldError } from '../../lib/errors.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { createValidators, lazyValidator } from '../../plugins/validation.ts'
import { assertWritable } from '../tokens/scope.ts'
import { checkValueRows } from '../values/values.references.ts'
import { naturalKey, type ValueData, type ValueInput } from '../values/values.rules.ts'
import { ValueCreate } from '../values/values.schemas.ts'
import { writeValues } from '../values/values.upsert.ts'
import { IMPORT_MAX_ERRORS, type ImportSummary } from './imports.schemas.ts'

/** Rows per COPY or upsert statement. */
const BATCH = 5000

// The same strict validator as the body of POST /v1/values (no coercion, no unknown fields),
// compiled on the first import rather than at every start (issue #7: some 80 ms of a restart).
const validateRow = lazyValidator(() => createValidators().body.compile(ValueCreate))

class DryRunRollback extends Error {}

export interface ImportOptions {
  dryRun: boolean
  mode: 'atomic' | 'partial'
  /** Runs inside the write transaction once the rows are written (records the idempotency key). */
  beforeCommit?: (tx: Db, summary: ImportSummary) => Promise<void>
}

/**
 * Bulk upsert by natural key. Every row goes through the checks of a single write (schema,
 * references, indicator range, kind rules); rows sharing a key are all rejected. In atomic
 * mode one bad row means nothing is written; in partial mode the valid rows are written.
 * A dry run does everything, including the upsert, in a transaction that is rolled back, so
 * its counts are exactly what the real request would report.
 */
export async function importValues (db: Db, ctx: WriteContext, raw: unknown[], options: ImportOptions): Promise<ImportSummary> {
  // One row outside an editor's region refuses the whole request, whatever the mode.
  await assertWritable(db, ctx, raw.map((r) => (typeof r === 'object' && r !== null ? (r as { regionCode?: unknown }).regionCode as string : undefined)))
  const errors: FieldError[] = []
  const rejected = new Set<number>()
  const reject = (index: number, e: FieldError) => {
    rejected.add(index)
    errors.push({ ...e, row: index + 1 })
  }

  const candidates: Array<{ index: number, input: ValueInput }> = []
  raw.forEach((row, index) => {
    if (validateRow(row)) {
      candidates.push({ index, input: row as ValueInput })
      return
    }
    for (const e of validateRow.errors ?? []) {
      const params = e.params as Record<string, unknown>
      const extra = e.keyword === 'additionalProperties' ? `/${String(params.additionalProperty)}` : e.keyword === 'required' ? `/${String(params.missingProperty)}` : ''
      reject(index, { field: `${e.instancePath}${extra}`, code: e.keyword, message: e.keyword === 'additionalProperties' ? 'is not a known field' : e.message ?? 'is not valid' })
    }
  })

  const summary = (created: number, updated: number, unchanged: number): ImportSummary => {
    errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    return {
      received: raw.length,
      created,
      updated,
      unchanged,
      rejected: rejected.size,
      dryRun: options.dryRun,
      mode: options.mode,
      errors: errors.slice(0, IMPORT_MAX_ERRORS) as ImportSummary['errors'],
      errorsTruncated: errors.length > IMPORT_MAX_ERRORS
    }
  }

  const run = async (tx: Db): Promise<ImportSummary> => {
    // Errors come back with the 1-based position among the candidates: map it to the row.
    const checked = await checkValueRows(tx, candidates.map((c) => c.input), () => '', true)
    for (const e of checked.errors) {
      const { row, ...rest } = e
      reject(candidates[(row ?? 1) - 1]!.index, rest)
    }
    const valid: Array<{ index: number, data: ValueData, key: string }> = []
    checked.rows.forEach((data, i) => {
      if (data !== undefined) valid.push({ index: candidates[i]!.index, data, key: naturalKey(data) })
    })

    // Two rows with one key: which is right is unknowable, so all of them are refused.
    const byKey = new Map<string, number[]>()
    for (const v of valid) {
      const list = byKey.get(v.key)
      if (list === undefined) byKey.set(v.key, [v.index])
      else list.push(v.index)
    }
    for (const indexes of byKey.values()) {
      if (indexes.length < 2) continue
      for (const index of indexes) {
        reject(index, { field: '', code: 'duplicate-key', message: `rows ${indexes.map((i) => i + 1).join(', ')} have the same region, indicator, period, breakdown (and plan)` })
      }
    }
    const writable = valid.filter((v) => !rejected.has(v.index))
    if (options.mode === 'atomic' && rejected.size > 0) return summary(0, 0, 0)

    // A stable order keeps concurrent imports from locking the same rows in opposite orders.
    const rows = writable.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((v) => v.data)
    let created = 0
    let updated = 0
    let unchanged = 0
    const state = { copy: true }
    for (let i = 0; i < rows.length; i += BATCH) {
      const counts = await writeValues(tx, rows.slice(i, i + BATCH), state)
      created += counts.created
      updated += counts.updated
      unchanged += counts.unchanged
    }
    return summary(created, updated, unchanged)
  }

  let result: ImportSummary | undefined
  try {
    await writeTransaction(db, ctx.actor, async (tx) => {
      result = await run(tx)
      if (options.dryRun) throw new DryRunRollback()
      if (options.mode === 'atomic' && result.rejected > 0) return
      if (options.beforeCommit !== undefined) await options.beforeCommit(tx, result)
    })
  } catch (err) {
    if (!(err instanceof DryRunRollback)) throw err
  }
  return result!
}
