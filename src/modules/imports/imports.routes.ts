import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../errors/catalogue.ts'
import { problems } from '../../errors/problem.ts'
import { writeContext } from '../../lib/write-context.ts'
import { CSV_COLUMNS } from '../values/values.csv.ts'
import { readCsvValues } from './imports.csv.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ERRORS, IMPORT_MAX_ROWS, ImportBody, ImportQuery, ImportSummary } from './imports.schemas.ts'
import { createImportsService } from './imports.service.ts'

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '^[\\x21-\\x7e]+$',
    description: 'Any unique printable string (e.g. a UUID). A retry with the same key and body replays the first answer instead of importing again; the same key with a different body is 422. Keys are remembered for 24 hours.'
  }))
})

/** The first answer for a key is replayed; this marks a replay (IETF draft Idempotency-Key). */
const REPLAYED = 'idempotent-replayed'

const importsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // A CSV body reaches the handler as a stream and is parsed as it arrives.
  app.addContentTypeParser('text/csv', (_request, payload, done) => { done(null, payload) })
  const service = createImportsService(app.db)

  app.post('/values/import', {
    config: { access: 'editor' },
    bodyLimit: IMPORT_MAX_BYTES,
    schema: {
      tags: ['values'],
      operationId: 'importValues',
      summary: 'Bulk upsert of yearly values (JSON or CSV)',
      description: [
        'Creates or updates values by their natural key (kind, plan, region, indicator, fromYear..year, breakdown):',
        'sending the same file twice changes nothing the second time (all rows `unchanged`). Each row is checked',
        'like the body of `POST /v1/values`. Two rows with the same key are both rejected.',
        '`mode=atomic` (default) writes every row or none: with any bad row the answer is 422 `IMPORT_REJECTED`',
        'with the row errors and the summary. `mode=partial` writes the valid rows and answers 200 with the',
        `rejected ones in \`errors\` (at most ${IMPORT_MAX_ERRORS} listed). \`dryRun=true\` validates and counts exactly`,
        'as the real request would, and writes nothing.',
        'Bodies: `application/json` `{ "values": [...] }`, or `text/csv` with a header row of the columns',
        `${CSV_COLUMNS.map((c) => `\`${c}\``).join(', ')} (any subset including kind, regionCode, indicatorCode, year;`,
        '`breakdown` as in the list filter, e.g. `category:mental,sex:female`; empty cells are absent fields), parsed as a stream.',
        `Limits: ${IMPORT_MAX_ROWS.toLocaleString('en')} rows and ${IMPORT_MAX_BYTES / 1024 / 1024} MiB per request (413 beyond).`,
        'Send an `Idempotency-Key` header so a retry after a timeout cannot import twice.'
      ].join(' '),
      querystring: ImportQuery,
      headers: IdempotencyHeaders,
      body: {
        content: {
          'application/json': { schema: ImportBody },
          'text/csv': {
            schema: {
              description: 'CSV with a header row (UTF-8, comma-separated, RFC 4180 quoting)',
              examples: ['kind,regionCode,indicatorCode,year,value,status,breakdown\nactual,330683,new-employment,2022,85,final,area:rural\n']
            }
          }
        }
      },
      response: {
        200: ImportSummary,
        ...problems(400, 413, 415, 422)
      }
    },
    // Only the two declared body formats: another parseable type (merge-patch JSON) would
    // skip the body schema, which is declared per content type.
    preValidation: async (request) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
      if (type !== 'application/json' && type !== 'text/csv') {
        throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the rows as application/json ({ "values": [...] }) or text/csv.')
      }
    }
  }, async (request, reply) => {
    const { dryRun = false, mode = 'atomic' } = request.query
    const key = request.headers['idempotency-key']
    const hash = createHash('sha256').update(`${mode}|${String(dryRun)}|${request.headers['content-type'] ?? ''}|`)

    let rows: unknown[]
    if ((request.headers['content-type'] ?? '').startsWith('text/csv')) {
      rows = await readCsvValues(request.body as unknown as Readable, hash)
    } else {
      rows = (request.body as { values: unknown[] }).values
      if (rows.length > IMPORT_MAX_ROWS) throw new ApiError('PAYLOAD_TOO_LARGE', `The body has ${rows.length} rows; at most ${IMPORT_MAX_ROWS} per request. Split it into several requests.`)
      // Only a keyed request needs the body's fingerprint (serialising 64 MiB is not free).
      if (key !== undefined) hash.update(JSON.stringify(request.body))
    }
    const requestHash = hash.digest('hex')

    const { status, summary, replayed } = await service.run(writeContext(request), rows, {
      dryRun,
      mode,
      idempotency: key !== undefined ? { key, requestHash } : undefined
    })
    if (!dryRun && !replayed) app.metrics.importRows(summary)
    if (replayed) reply.header(REPLAYED, 'true')
    if (status === 200) return reply.code(200).send(summary)
    throw new ApiError('IMPORT_REJECTED', `${summary.rejected} of ${summary.received} rows are not valid; nothing was written.`, {
      errors: summary.errors,
      extensions: { summary },
      headers: replayed ? { [REPLAYED]: 'true' } : {}
    })
  })
}

export default importsRoutes
