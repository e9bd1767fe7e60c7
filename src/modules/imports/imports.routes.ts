import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ApiError } from '../../errors/catalogue.ts'
import { problems } from '../../errors/problem.ts'
import { writeContext } from '../../lib/write-context.ts'
import { CSV_COLUMNS } from '../values/values.csv.ts'
import { XLSX_TYPE } from '../values/values.xlsx.ts'
import { readCsvValues } from './imports.csv.ts'
import { CHARSETS, charsetOf, encodingOf } from './imports.decode.ts'
import { readXlsxValues } from './imports.xlsx.ts'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ERRORS, IMPORT_MAX_ROWS, ImportBody, ImportQuery, ImportSummary } from './imports.schemas.ts'
import { createImportsService, type ImportsServiceOptions } from './imports.service.ts'

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '^[\\x21-\\x7e]+$',
    description: 'Any unique printable string (e.g. a UUID). A retry with the same key and body replays the first answer instead of importing again (`Idempotent-Replayed: true`); the same key with a different body is 422. This holds whichever instance of the service each request reaches: a retry sent while the first request is still running waits for it, up to the server\'s IDEMPOTENCY_WAIT_MS (30 s by default), then answers 503 `IDEMPOTENCY_KEY_IN_PROGRESS` with Retry-After and imports nothing. Keys are remembered for 24 hours.'
  }))
})

/** The body formats the import reads; a 415 lists them (`Accept-Post`, and `accept` in the problem). */
const ACCEPTED = ['application/json', 'text/csv', XLSX_TYPE]

/** The first answer for a key is replayed; this marks a replay (IETF draft Idempotency-Key). */
const REPLAYED = 'idempotent-replayed'

/** 415 for a body the import does not read, listing those it does (RFC 9110 §15.5.16; Accept-Post as in RFC 5789 style). */
function unsupported (): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', `Send the rows as one of: ${ACCEPTED.join(', ')} (application/json as { "values": [...] }).`, {
    headers: { 'accept-post': ACCEPTED.join(', ') },
    extensions: { accept: ACCEPTED }
  })
}

const importsRoutes: FastifyPluginAsyncTypebox<ImportsServiceOptions> = async (app, opts) => {
  // A CSV or workbook body reaches the handler as a stream and is read as it arrives.
  app.addContentTypeParser(['text/csv', XLSX_TYPE], (_request, payload, done) => { done(null, payload) })
  // Any other type (or none) reaches preValidation, whose 415 lists the accepted ones; the
  // body is drained unread.
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume()
    done(null, undefined)
  })
  const service = createImportsService(app.db, opts)

  app.post('/values/import', {
    config: { access: 'editor' },
    bodyLimit: IMPORT_MAX_BYTES,
    schema: {
      tags: ['values'],
      operationId: 'importValues',
      summary: 'Bulk upsert of yearly values (JSON, CSV or Excel workbook)',
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
        '`breakdown` as in the list filter, e.g. `category:mental,sex:female`; empty cells are absent fields), parsed as a stream,',
        `or an Excel workbook (\`${XLSX_TYPE}\`): its first sheet, with the same header row and columns.`,
        '**Encodings (CSV):** UTF-8 (with or without BOM), UTF-16 with a BOM, and GB18030/GBK. A BOM decides; else the `charset`',
        `parameter of Content-Type (${Object.keys(CHARSETS).join(', ')}; another is 415); else UTF-8 when the bytes are valid UTF-8,`,
        'GB18030 when not. Bytes valid in none of them are 400 and nothing is written; no character is ever replaced.',
        '**Cells (CSV and workbook; JSON bodies stay strict: a number or a decimal string):** number cells (`value`, `numerator`,',
        '`denominator`, `baselineValue`) are read exactly, never through a float: spaces around them are ignored; full-width',
        'digits (`１２`) are digits; a comma must separate groups of three digits (`58,200`; `58,20` is refused as it could be a',
        'decimal comma); a trailing `%` is accepted only for the value or baseline of a percent indicator (`99%` is 99); a trailing',
        '`万` or `亿` multiplies by 10^4 or 10^8 (`3.5万` is 35000, `1.06亿` is 106000000), except for an indicator counted in 万元',
        '(cny-10k), where it is refused as ambiguous. Anything else refuses the row with a message saying what to write. In a',
        'workbook, a number cell reads as its shortest exact decimal (0.1 is 0.1), one formatted as a percentage as that many',
        'percent, a date as YYYY-MM-DD, a formula as its saved result; a number of more than 15 significant digits, a formula without',
        'a result or an error cell is 400, naming the cell. A text cell starting with an apostrophe followed by `=`, `+`, `-`, `@`,',
        'a tab, a carriage return or another apostrophe loses that one apostrophe (the export adds it so spreadsheets do not run',
        'the cell as a formula). A NUL character (or an unpaired surrogate) anywhere is 400, as in a JSON body; nothing is written.',
        `Limits: ${IMPORT_MAX_ROWS.toLocaleString('en')} rows and ${IMPORT_MAX_BYTES / 1024 / 1024} MiB per request (413 beyond).`,
        'Another Content-Type is 415, whose `accept` member and `Accept-Post` header list the three media types.',
        'Send an `Idempotency-Key` header so a retry after a timeout cannot import twice, whichever instance it reaches: a',
        'retry of a request still running waits for it and replays its answer (503 `IDEMPOTENCY_KEY_IN_PROGRESS` with Retry-After',
        'after a bounded wait; retry it unchanged).'
      ].join(' '),
      querystring: ImportQuery,
      headers: IdempotencyHeaders,
      body: {
        content: {
          'application/json': { schema: ImportBody },
          'text/csv': {
            schema: {
              description: 'CSV with a header row (UTF-8, UTF-16 with BOM or GB18030/GBK; comma-separated, RFC 4180 quoting)',
              examples: ['kind,regionCode,indicatorCode,year,value,status,breakdown\nactual,330683,new-employment,2022,85,final,area:rural\n']
            }
          },
          [XLSX_TYPE]: {
            // No type: the body reaches the handler as a stream, which a `string` schema would refuse.
            schema: { contentMediaType: XLSX_TYPE, description: 'An Excel workbook (binary): the first sheet, with the CSV header row and columns' }
          }
        }
      },
      response: {
        200: ImportSummary,
        ...problems(400, 413, 415, 422)
      }
    },
    // Only the declared body formats: another parseable type (merge-patch JSON) would
    // skip the body schema, which is declared per content type.
    preValidation: async (request) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
      if (!ACCEPTED.includes(type)) throw unsupported()
    }
  }, async (request, reply) => {
    const { dryRun = false, mode = 'atomic' } = request.query
    const key = request.headers['idempotency-key']
    const hash = createHash('sha256').update(`${mode}|${String(dryRun)}|${request.headers['content-type'] ?? ''}|`)

    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    let rows: unknown[]
    if (type === 'text/csv') {
      rows = await readCsvValues(request.body as unknown as Readable, hash, encodingOf(charsetOf(request.headers['content-type'])))
    } else if (type === XLSX_TYPE) {
      rows = await readXlsxValues(request.body as unknown as Readable, hash)
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
      cells: type !== 'application/json',
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
