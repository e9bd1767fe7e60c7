import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendResource } from '../../lib/conditional.ts'
import { decodeCursor, encodeCursor, pageOf } from '../../lib/pagination.ts'
import { ApiError, notFound } from '../../errors/catalogue.ts'
import { problems } from '../../errors/problem.ts'
import { writableFields } from '../../lib/representation.ts'
import { writeContext } from '../../lib/write-context.ts'
import { NO_CONTENT, NOT_MODIFIED } from '../../lib/routes.ts'
import { createValuesRepository, listCursorKey } from './values.repository.ts'
import { toValueResource } from './values.model.ts'
import { HistoryPage, HistoryQuery, parseBreakdownFilter, Value, ValueCreate, ValueListQuery, ValuePage, ValueParams, ValuePatch } from './values.schemas.ts'
import { valueHistoryOf } from './values.history.ts'
import { xlsxExport } from './values.workbook.ts'
import { XLSX_TYPE } from './values.xlsx.ts'
import { createValuesService } from './values.service.ts'

const tags = ['values']

const valuesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Writes go to the primary (app.db); reads to the request's read database (request.readDb).
  const service = createValuesService(app.db)

  app.get('/values', {
    config: { cache: { vary: ['Accept'] } },
    schema: {
      tags,
      operationId: 'listValues',
      summary: 'List yearly values',
      description: [
        'Targets and actuals ordered by year, then id. Filters combine with AND:',
        '`region` (with `includeDescendants=true` also every region below it), `indicator`, `kind`, `plan`,',
        '`from`/`to` (the period `fromYear..year` lies within `from..to`), `status` (actuals) and `breakdown`',
        '(default: totals only; `category:mental,sex:female` for exactly that breakdown; `*` for all).',
        '`latest=true` keeps the most recent actual per region, indicator and breakdown (a dashboard in one call).',
        '`format=csv` or `Accept: text/csv` streams every matching value as CSV (no pagination) with the columns',
        'that `POST /v1/values/import` accepts, so an export imports back unchanged. The CSV is UTF-8; `bom=true` starts it',
        `with a byte order mark so that Excel opens it right. \`format=xlsx\` or \`Accept: ${XLSX_TYPE}\` streams the same`,
        'as an Excel workbook (one sheet, the same header row; numbers as numbers when exact, `asOf` as a date).',
        'A sheet holds at most 1,048,575 values (a spreadsheet\'s row limit): a larger selection breaks off rather than end',
        'as a workbook with values missing; export it as CSV or in parts (by year, by region).',
        'In both, a text cell starting with `=`, `+`, `-`, `@`, a tab, a carriage return or an apostrophe is written with a',
        'leading apostrophe, so a spreadsheet shows it as text instead of running it as a formula; the import removes that',
        'apostrophe again. Number, year and date columns are never prefixed (`-5` is a number).'
      ].join(' '),
      querystring: ValueListQuery,
      response: {
        200: {
          description: 'A page of values (JSON), or every matching value as CSV',
          content: {
            'application/json': { schema: ValuePage },
            [XLSX_TYPE]: { schema: { type: 'string', format: 'binary', description: 'An Excel workbook: one sheet with the CSV form\'s header row and columns' } },
            'text/csv': { schema: { type: 'string', description: 'CSV with a header row: the columns POST /v1/values/import accepts', examples: ['kind,planId,regionCode,indicatorCode,fromYear,year,breakdown,value,status,numerator,denominator,asOf,comparator,binding,baselineYear,baselineValue,qualitative,source,note\nactual,,330683,hardship-subsidy-beneficiaries,2021,2021,,3491,final,,,2021-09-30,,,,,,,\n'] } }
          }
        },
        ...NOT_MODIFIED,
        ...problems(400)
      }
    }
  }, async (request, reply) => {
    const repo = createValuesRepository(request.readDb)
    const { limit = 100, cursor, breakdown, latest = false, format, bom = false, ...filter } = request.query
    const accept = request.headers.accept ?? ''
    const file = format === 'csv' || format === 'xlsx' ? format : format === undefined ? (accept.includes(XLSX_TYPE) ? 'xlsx' : accept.includes('text/csv') ? 'csv' : undefined) : undefined
    const where = { ...filter, breakdown: parseBreakdownFilter(breakdown) }
    if (latest && filter.kind === 'target') {
      throw new ApiError('VALIDATION_FAILED', '`latest` lists actuals; it cannot be combined with kind=target.', {
        errors: [{ field: '/query/kind', code: 'conflict', message: 'latest=true lists actuals only' }]
      })
    }
    if (file !== undefined) {
      if (latest) {
        throw new ApiError('VALIDATION_FAILED', 'An export lists every matching value; it cannot be combined with latest=true.', {
          errors: [{ field: '/query/latest', code: 'conflict', message: `not available as ${file === 'csv' ? 'CSV' : 'a workbook'}` }]
        })
      }
      const csv = await repo.exportCsv(where)
      if (file === 'xlsx') {
        // Written as the client reads it; a failure midway breaks the response off.
        return reply.type(XLSX_TYPE).header('content-disposition', 'attachment; filename="values.xlsx"').send(xlsxExport(csv) as unknown as string)
      }
      const body = bom ? Readable.from((async function * () { yield Buffer.from([0xEF, 0xBB, 0xBF]); yield * csv })()) : csv
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="values.csv"').send(body as unknown as string)
    }
    if (latest) {
      const after = decodeCursor(cursor, ['string', 'string', 'id']) as [string, string, number] | undefined
      const page = pageOf(await repo.listLatest({ ...where, after, limit }), limit, (r) => [r.regionCode, r.indicatorCode, r.id])
      return { items: page.items.map(toValueResource), nextCursor: page.nextCursor }
    }
    const after = decodeCursor(cursor, ['int', 'id']) as [number, number] | undefined
    const page = pageOf(await repo.list({ ...where, after, limit }), limit, listCursorKey)
    return { items: page.items.map(toValueResource), nextCursor: page.nextCursor }
  })

  app.post('/values', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'createValue',
      summary: 'Register one yearly value',
      description: [
        'Creates one actual or target. An actual is keyed by (region, indicator, fromYear..year, breakdown);',
        'a target also by its plan. 409 `VALUE_EXISTS` when the key is taken (PATCH the existing value instead).',
        'The value must lie within the indicator\'s min/max (422 `VALUE_OUT_OF_RANGE`). Target-only fields on an',
        'actual, or actual-only fields on a target, are refused (422). A target must lie within its plan\'s region',
        '(or below it) and years (422 `TARGET_OUTSIDE_PLAN`).'
      ].join(' '),
      body: ValueCreate,
      response: { 201: Value, ...problems(400, 409, 415, 422) }
    }
  }, async (request, reply) => {
    const row = await service.create(writeContext(request), request.body)
    reply.header('location', `/v1/values/${row.id}`)
    return sendResource(request, reply, toValueResource(row), 201)
  })

  app.get('/values/:id', {
    config: { cache: 'revision' },
    schema: {
      tags,
      operationId: 'getValue',
      summary: 'Get a yearly value',
      description: 'One value with its ETag; 304 when If-None-Match names the current ETag.',
      params: ValueParams,
      response: { 200: Value, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request, reply) => {
    const row = await createValuesRepository(request.readDb).get(request.params.id)
    if (row === undefined) throw notFound.value(request.params.id)
    return sendResource(request, reply, toValueResource(row))
  })

  app.get('/values/:id/history', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'getValueHistory',
      summary: 'Every revision of a yearly value',
      description: 'Oldest first: for each write (create, update, delete) who made it, when, and the value before and after. Available after a delete too. Revisions that changed nothing are not writes and do not appear.',
      params: ValueParams,
      querystring: HistoryQuery,
      response: { 200: HistoryPage, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    const entries = await valueHistoryOf(request.readDb, request.params.id)
    if (entries === undefined) throw notFound.value(request.params.id)
    const { limit = 100, cursor } = request.query
    const start = (decodeCursor(cursor, ['int'])?.[0] as number | undefined) ?? 0
    const rest = entries.slice(start)
    return { items: rest.slice(0, limit), nextCursor: rest.length > limit ? encodeCursor([start + limit]) : null }
  })

  app.patch('/values/:id', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'patchValue',
      summary: 'Revise a yearly value',
      description: 'JSON merge patch (RFC 7396) of one value: the result is checked like a new value (range, kind rules, key conflicts give 409). The kind cannot change. Send If-Match to avoid overwriting someone else\'s revision (412).',
      params: ValueParams,
      body: ValuePatch,
      response: { 200: Value, ...problems(400, 404, 409, 412, 415, 422) }
    }
  }, async (request, reply) => sendResource(request, reply, toValueResource(await service.patch(writeContext(request), request.params.id, writableFields(request.body, 'id', request.params.id)))))

  app.delete('/values/:id', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'deleteValue',
      summary: 'Delete a yearly value',
      description: 'Deletes one value. If-Match guards against deleting a revision you have not seen (412).',
      params: ValueParams,
      response: { ...NO_CONTENT, ...problems(400, 404, 412) }
    }
  }, async (request, reply) => {
    await service.remove(writeContext(request), request.params.id)
    return reply.code(204).send(null)
  })
}

export default valuesRoutes
