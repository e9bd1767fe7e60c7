import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendResource } from '../../lib/conditional.ts'
import { decodeCursor, pageOf } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { writableFields } from '../../lib/representation.ts'
import { writeContext } from '../../lib/write-context.ts'
import { NO_CONTENT, NOT_MODIFIED } from '../../lib/routes.ts'
import { PageQuery } from '../../lib/schemas.ts'
import { Type } from 'typebox'
import { createValuesRepository, listCursorKey } from '../values/values.repository.ts'
import { toValueResource } from '../values/values.model.ts'
import { createPlansRepository } from './plans.repository.ts'
import {
  Plan, PlanCreate, PlanListQuery, PlanPage, PlanParams, PlanPatch, PlanReplace, TargetPage, TargetTable, TargetTableResult
} from './plans.schemas.ts'
import { createPlansService, planInput } from './plans.service.ts'
import { replaceTargets } from './targets.service.ts'

const tags = ['plans']

const plansRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Writes go to the primary (app.db); reads to the request's read database (request.readDb).
  const service = createPlansService(app.db)

  app.get('/plans', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listPlans',
      summary: 'List plans',
      description: 'Plans ordered by id, filtered by `region` (the issuing region), `kind` and `year` (in force that year: startYear <= year <= endYear).',
      querystring: PlanListQuery,
      response: { 200: PlanPage, ...NOT_MODIFIED, ...problems(400) }
    }
  }, async (request) => {
    const repo = createPlansRepository(request.readDb)
    const { limit = 100, cursor, ...filter } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    return pageOf(await repo.list({ ...filter, after, limit }), limit, (r) => [r.id])
  })

  app.post('/plans', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'createPlan',
      summary: 'Register a plan',
      description: 'Registers a planning document under an id chosen by the client. 409 when the id exists (`PLAN_EXISTS`) or the document number is taken (`DOCUMENT_NUMBER_TAKEN`); 422 when the region or parent plan does not exist, the years are out of order, or the parent chain would form a cycle.',
      body: PlanCreate,
      response: { 201: Plan, ...problems(400, 409, 415, 422) }
    }
  }, async (request, reply) => {
    const row = await service.create(writeContext(request), planInput(request.body.id, request.body))
    reply.header('location', `/v1/plans/${row.id}`)
    return sendResource(request, reply, row, 201)
  })

  app.get('/plans/:id', {
    config: { cache: 'revision' },
    schema: {
      tags,
      operationId: 'getPlan',
      summary: 'Get a plan',
      description: 'One plan with its ETag; 304 when If-None-Match names the current ETag.',
      params: PlanParams,
      response: { 200: Plan, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request, reply) => {
    const row = await createPlansRepository(request.readDb).get(request.params.id)
    if (row === undefined) throw notFound.plan(request.params.id)
    return sendResource(request, reply, row)
  })

  app.put('/plans/:id', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'putPlan',
      summary: 'Create or replace a plan',
      description: 'Idempotent: 201 when created, 200 when replaced; omitted optional fields are cleared and `status` defaults to `in-force`. A change of region or years that would leave targets outside the plan is refused (422 `TARGET_OUTSIDE_PLAN`).',
      params: PlanParams,
      body: PlanReplace,
      response: { 200: Plan, 201: Plan, ...problems(400, 409, 412, 415, 422) }
    }
  }, async (request, reply) => {
    const { row, created } = await service.put(writeContext(request), request.params.id, writableFields(request.body, 'id', request.params.id))
    if (created) reply.header('location', `/v1/plans/${row.id}`)
    return sendResource(request, reply, row, created ? 201 : 200)
  })

  app.patch('/plans/:id', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'patchPlan',
      summary: 'Change some fields of a plan',
      description: 'JSON merge patch (RFC 7396); the plan rules are checked on the result.',
      params: PlanParams,
      body: PlanPatch,
      response: { 200: Plan, ...problems(400, 404, 409, 412, 415, 422) }
    }
  }, async (request, reply) => sendResource(request, reply, await service.patch(writeContext(request), request.params.id, writableFields(request.body, 'id', request.params.id))))

  app.delete('/plans/:id', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'deletePlan',
      summary: 'Delete a plan and its target table',
      description: 'Deletes the plan together with its targets (they belong to the document). 409 `PLAN_IN_USE` while other plans implement it.',
      params: PlanParams,
      response: { ...NO_CONTENT, ...problems(400, 404, 409, 412) }
    }
  }, async (request, reply) => {
    await service.remove(writeContext(request), request.params.id)
    return reply.code(204).send(null)
  })

  app.get('/plans/:id/targets', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listPlanTargets',
      summary: 'List the targets a plan sets',
      description: 'The plan\'s target table (every breakdown), ordered by year then id.',
      params: PlanParams,
      querystring: Type.Object(PageQuery, { additionalProperties: false }),
      response: { 200: TargetPage, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    if (await createPlansRepository(request.readDb).get(request.params.id) === undefined) throw notFound.plan(request.params.id)
    const { limit = 100, cursor } = request.query
    const after = decodeCursor(cursor, ['int', 'id']) as [number, number] | undefined
    const page = pageOf(await createValuesRepository(request.readDb).list({ plan: request.params.id, breakdown: '*', after, limit }), limit, listCursorKey)
    return { items: page.items.map(toValueResource), nextCursor: page.nextCursor }
  })

  app.put('/plans/:id/targets', {
    config: { access: 'editor' },
    schema: {
      tags,
      operationId: 'replacePlanTargets',
      summary: 'Replace a plan\'s whole target table',
      description: [
        'Replaces every target of the plan in one transaction: rows are matched to stored targets by',
        '(region, indicator, fromYear..year, breakdown); matching rows are updated (or left alone when equal),',
        'new ones created, and stored targets missing from the body deleted. Either every row is valid and',
        'the table is replaced, or nothing changes and the answer lists each bad row (`errors[].row`, 1-based).',
        'Two rows with the same key are refused (422 `DUPLICATE_KEY_IN_REQUEST`). `kind` and `planId` are implied.'
      ].join(' '),
      params: PlanParams,
      body: TargetTable,
      response: { 200: TargetTableResult, ...problems(400, 404, 413, 415, 422) }
    }
  }, async (request) => {
    const result = await replaceTargets(app.db, writeContext(request), request.params.id, request.body)
    return { ...result, items: result.items.map(toValueResource) }
  })
}

export default plansRoutes
