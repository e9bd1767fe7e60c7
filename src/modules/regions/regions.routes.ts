import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { sendResource } from '../../lib/conditional.ts'
import { decodeCursor, pageOf } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { writableFields } from '../../lib/representation.ts'
import { writeContext } from '../../lib/write-context.ts'
import { NO_CONTENT, NOT_MODIFIED } from '../../lib/routes.ts'
import { createRegionsRepository, type RegionRow, type RegionsRepository } from './regions.repository.ts'
import {
  CodeParams, DescendantsQuery, Region, RegionCreate, RegionListQuery, RegionPage, RegionPatch, RegionReplace
} from './regions.schemas.ts'
import { createRegionsService } from './regions.service.ts'

const tags = ['regions']

const keyOf = (r: RegionRow) => [r.code]

const regionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Writes go to the primary (app.db); reads to the request's read database (request.readDb).
  const service = createRegionsService(app.db)

  async function mustGet (repo: RegionsRepository, code: string) {
    const row = await repo.get(code)
    if (row === undefined) throw notFound.region(code)
    return row
  }

  app.get('/regions', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listRegions',
      summary: 'List regions',
      description: 'Regions ordered by code, filtered by `parent` (direct children of that code), `level` and `q` (substring of the Chinese or English name, or a code prefix).',
      querystring: RegionListQuery,
      response: { 200: RegionPage, ...NOT_MODIFIED, ...problems(400) }
    }
  }, async (request) => {
    const repo = createRegionsRepository(request.readDb)
    const { limit = 100, cursor, ...filter } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    const rows = await repo.list({ ...filter, after, limit })
    return pageOf(rows, limit, keyOf)
  })

  app.post('/regions', {
    schema: {
      tags,
      operationId: 'createRegion',
      summary: 'Create a region',
      description: 'Creates a region. Its `level` must match the shape of its code (XX0000 province, XXYY00 prefecture, XXYYZZ county, nine digits township; 100000 national) and its parent must sit at a higher level with a prefix-compatible code. 409 when the code exists. Admins only once access control is on.',
      body: RegionCreate,
      response: { 201: Region, ...problems(400, 409, 415, 422) }
    }
  }, async (request, reply) => {
    const b = request.body
    const row = await service.create(writeContext(request), { code: b.code, name: b.name, nameEn: b.nameEn ?? null, level: b.level, parentCode: b.parentCode ?? null })
    reply.header('location', `/v1/regions/${row.code}`)
    return sendResource(request, reply, row, 201)
  })

  app.get('/regions/:code', {
    config: { cache: 'revision' },
    schema: {
      tags,
      operationId: 'getRegion',
      summary: 'Get a region',
      description: 'One region with its ETag. Answers 304 when If-None-Match names the current ETag.',
      params: CodeParams,
      response: { 200: Region, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request, reply) => sendResource(request, reply, await mustGet(createRegionsRepository(request.readDb), request.params.code)))

  app.put('/regions/:code', {
    schema: {
      tags,
      operationId: 'putRegion',
      summary: 'Create or replace a region',
      description: 'Idempotent: 201 when it created the region, 200 when it replaced it. Omitted optional fields are cleared. `If-Match` guards against lost updates (412 when stale); `If-None-Match: *` only creates.',
      params: CodeParams,
      body: RegionReplace,
      response: { 200: Region, 201: Region, ...problems(400, 412, 415, 422) }
    }
  }, async (request, reply) => {
    const b = writableFields(request.body, 'code', request.params.code)
    const { row, created } = await service.put(writeContext(request), {
      code: request.params.code, name: b.name, nameEn: b.nameEn ?? null, level: b.level, parentCode: b.parentCode ?? null
    })
    if (created) reply.header('location', `/v1/regions/${row.code}`)
    return sendResource(request, reply, row, created ? 201 : 200)
  })

  app.patch('/regions/:code', {
    schema: {
      tags,
      operationId: 'patchRegion',
      summary: 'Change some fields of a region',
      description: 'JSON merge patch (RFC 7396): fields sent replace, `null` clears `nameEn`. The region rules are checked on the result.',
      params: CodeParams,
      body: RegionPatch,
      response: { 200: Region, ...problems(400, 404, 412, 415, 422) }
    }
  }, async (request, reply) => sendResource(request, reply, await service.patch(writeContext(request), request.params.code, writableFields(request.body, 'code', request.params.code))))

  app.delete('/regions/:code', {
    schema: {
      tags,
      operationId: 'deleteRegion',
      summary: 'Delete a region',
      description: 'Deletes a region that holds nothing: 409 `REGION_IN_USE` while it has sub-regions, plans or yearly values.',
      params: CodeParams,
      response: { ...NO_CONTENT, ...problems(400, 404, 409, 412) }
    }
  }, async (request, reply) => {
    await service.remove(writeContext(request), request.params.code)
    return reply.code(204).send(null)
  })

  app.get('/regions/:code/children', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listRegionChildren',
      summary: 'List the direct sub-regions of a region',
      description: 'The regions whose parent is this region, ordered by code.',
      params: CodeParams,
      querystring: DescendantsQuery,
      response: { 200: RegionPage, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    const repo = createRegionsRepository(request.readDb)
    await mustGet(repo, request.params.code)
    const { limit = 100, cursor, level } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    return pageOf(await repo.list({ parent: request.params.code, level, after, limit }), limit, keyOf)
  })

  app.get('/regions/:code/ancestors', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listRegionAncestors',
      summary: 'List the ancestors of a region',
      description: 'The chain of parents from the national root down to the direct parent (at most five regions, so always one page).',
      params: CodeParams,
      response: { 200: RegionPage, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    const repo = createRegionsRepository(request.readDb)
    await mustGet(repo, request.params.code)
    return { items: await repo.ancestors(request.params.code), nextCursor: null }
  })

  app.get('/regions/:code/descendants', {
    config: { cache: 'data' },
    schema: {
      tags,
      operationId: 'listRegionDescendants',
      summary: 'List every region below a region',
      description: 'All regions below this one at any depth (optionally only those at `level`), ordered by code.',
      params: CodeParams,
      querystring: DescendantsQuery,
      response: { 200: RegionPage, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    const repo = createRegionsRepository(request.readDb)
    await mustGet(repo, request.params.code)
    const { limit = 100, cursor, level } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    return pageOf(await repo.descendants(request.params.code, { level, after, limit }), limit, keyOf)
  })
}

export default regionsRoutes
