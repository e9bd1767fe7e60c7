import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendResource } from '../../lib/conditional.ts'
import { decodeCursor, pageOf } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { writableFields } from '../../lib/representation.ts'
import { writeContext } from '../../lib/write-context.ts'
import { NO_CONTENT, NOT_MODIFIED } from '../../lib/routes.ts'
import { createIndicatorsRepository } from './indicators.repository.ts'
import {
  Indicator, IndicatorCreate, IndicatorListQuery, IndicatorPage, IndicatorParams, IndicatorPatch, IndicatorReplace
} from './indicators.schemas.ts'
import { createIndicatorsService, indicatorInput } from './indicators.service.ts'

const tags = ['indicators']

const indicatorsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Writes go to the primary (app.db); reads to the request's read database (request.readDb).
  const service = createIndicatorsService(app.db)

  app.get('/indicators', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listIndicators',
      summary: 'List indicators',
      description: 'The catalogue ordered by code, filtered by `domain` and `q` (substring of the code or of the Chinese or English name).',
      querystring: IndicatorListQuery,
      response: { 200: IndicatorPage, ...NOT_MODIFIED, ...problems(400) }
    }
  }, async (request) => {
    const repo = createIndicatorsRepository(request.readDb)
    const { limit = 100, cursor, ...filter } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    return pageOf(await repo.list({ ...filter, after, limit }), limit, (r) => [r.code])
  })

  app.post('/indicators', {
    schema: {
      tags,
      operationId: 'createIndicator',
      summary: 'Create an indicator',
      description: 'Adds a catalogue entry. `min`/`max` bound every value registered for it (a coverage rate lies in 0..100); 409 when the code exists.',
      body: IndicatorCreate,
      response: { 201: Indicator, ...problems(400, 409, 415, 422) }
    }
  }, async (request, reply) => {
    const row = await service.create(writeContext(request), indicatorInput(request.body.code, request.body))
    reply.header('location', `/v1/indicators/${row.code}`)
    return sendResource(request, reply, row, 201)
  })

  app.get('/indicators/:code', {
    config: { cache: 'revision' },
    schema: {
      tags,
      operationId: 'getIndicator',
      summary: 'Get an indicator',
      description: 'One catalogue entry with its ETag; 304 when If-None-Match names the current ETag.',
      params: IndicatorParams,
      response: { 200: Indicator, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request, reply) => {
    const row = await createIndicatorsRepository(request.readDb).get(request.params.code)
    if (row === undefined) throw notFound.indicator(request.params.code)
    return sendResource(request, reply, row)
  })

  app.put('/indicators/:code', {
    schema: {
      tags,
      operationId: 'putIndicator',
      summary: 'Create or replace an indicator',
      description: 'Idempotent: 201 when created, 200 when replaced; omitted optional fields are cleared. A new `min`/`max` that would leave registered values outside the range is refused (422 `INDICATOR_RANGE_CONFLICT`).',
      params: IndicatorParams,
      body: IndicatorReplace,
      response: { 200: Indicator, 201: Indicator, ...problems(400, 412, 415, 422) }
    }
  }, async (request, reply) => {
    const { row, created } = await service.put(writeContext(request), request.params.code, writableFields(request.body, 'code', request.params.code))
    if (created) reply.header('location', `/v1/indicators/${row.code}`)
    return sendResource(request, reply, row, created ? 201 : 200)
  })

  app.patch('/indicators/:code', {
    schema: {
      tags,
      operationId: 'patchIndicator',
      summary: 'Change some fields of an indicator',
      description: 'JSON merge patch (RFC 7396); `null` clears an optional field. Range changes are checked against registered values.',
      params: IndicatorParams,
      body: IndicatorPatch,
      response: { 200: Indicator, ...problems(400, 404, 412, 415, 422) }
    }
  }, async (request, reply) => sendResource(request, reply, await service.patch(writeContext(request), request.params.code, writableFields(request.body, 'code', request.params.code))))

  app.delete('/indicators/:code', {
    schema: {
      tags,
      operationId: 'deleteIndicator',
      summary: 'Delete an indicator',
      description: 'Deletes a catalogue entry that has no yearly values (409 `INDICATOR_IN_USE` otherwise).',
      params: IndicatorParams,
      response: { ...NO_CONTENT, ...problems(400, 404, 409, 412) }
    }
  }, async (request, reply) => {
    await service.remove(writeContext(request), request.params.code)
    return reply.code(204).send(null)
  })
}

export default indicatorsRoutes
