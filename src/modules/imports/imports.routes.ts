import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../lib/errors.ts'
import { problems } from '../../lib/problem.ts'
import { writeContext } from '../../lib/write-context.ts'
import { findAnswer, purgeExpired, recordAnswer, type StoredAnswer } from './idempotency.ts'
import { CSV_COLUMNS, readCsvValues } from './imports.csv.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ERRORS, IMPORT_MAX_ROWS, ImportBody, ImportQuery, ImportSummary } from './imports.schemas.ts'
import { importValues } from './imports.service.ts'

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

class KeyTakenMeanwhile extends Error {}

const importsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // A CSV body reaches the handler as a stream and is parsed as it arrives.
  app.addContentTypeParser('text/csv', (_request, payload, done) => { done(null, payload) })
  // Requests with the same key in this process wait for the first one, then replay it.
  const inFlight = new Map<string, Promise<unknown>>()

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

    const answer = (stored: StoredAnswer, replayed: boolean) => {
      if (replayed) reply.header(REPLAYED, 'true')
      if (stored.status === 200) return reply.code(200).send(stored.response as ImportSummary)
      const summary = stored.response as ImportSummary
      throw new ApiError('IMPORT_REJECTED', `${summary.rejected} of ${summary.received} rows are not valid; nothing was written.`, {
        errors: summary.errors,
        extensions: { summary },
        headers: replayed ? { [REPLAYED]: 'true' } : {}
      })
    }
    const execute = async (): Promise<StoredAnswer> => {
      const summary = await importValues(app.db, writeContext(request), rows, {
        dryRun,
        mode,
        beforeCommit: key !== undefined
          ? async (tx, result) => {
            if (!await recordAnswer(tx, key, requestHash, { status: 200, response: result })) throw new KeyTakenMeanwhile()
          }
          : undefined
      })
      const status = mode === 'atomic' && summary.rejected > 0 ? 422 : 200
      // A refused atomic import wrote nothing; its answer is remembered on its own.
      if (status === 422 && key !== undefined && !dryRun) await recordAnswer(app.db, key, requestHash, { status, response: summary })
      if (!dryRun) app.metrics.importRows(summary)
      return { status, response: summary }
    }

    if (key === undefined || dryRun) return answer(await execute(), false)

    // One request per key at a time in this process: the others wait, then replay. Across
    // instances the unique key row does the same job (see recordAnswer).
    for (let pending = inFlight.get(key); pending !== undefined; pending = inFlight.get(key)) await pending.catch(() => {})
    const work = (async (): Promise<{ stored: StoredAnswer, replayed: boolean }> => {
      const stored = await findAnswer(app.db, key, requestHash)
      if (stored === 'mismatch') {
        throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different body or options; use a new key for a new request.')
      }
      if (stored !== undefined) return { stored, replayed: true }
      try {
        return { stored: await execute(), replayed: false }
      } catch (err) {
        if (!(err instanceof KeyTakenMeanwhile)) throw err
        // Another instance finished the same key first: answer what it answered.
        const theirs = await findAnswer(app.db, key, requestHash)
        if (theirs === undefined || theirs === 'mismatch') throw new ApiError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used concurrently with a different body.')
        return { stored: theirs, replayed: true }
      }
    })()
    inFlight.set(key, work)
    try {
      const { stored, replayed } = await work
      if (!replayed && Math.random() < 0.01) await purgeExpired(app.db)
      return answer(stored, replayed)
    } finally {
      if (inFlight.get(key) === work) inFlight.delete(key)
    }
  })
}

export default importsRoutes
