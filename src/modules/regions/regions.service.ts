import type { FastifyRequest } from 'fastify'
import type { Db } from '../../db/client.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import { ApiError } from '../../lib/errors.ts'
import { createRegionsRepository, type RegionInput, type RegionRow } from './regions.repository.ts'
import { assertLevelMatchesCode, assertValidParent } from './regions.rules.ts'
import type { RegionPatch } from './regions.schemas.ts'

export function regionNotFound (code: string): ApiError {
  return new ApiError('REGION_NOT_FOUND', `No region has code ${code}.`)
}

/** Use cases that write regions: each runs in one transaction and checks the region rules. */
export function createRegionsService (db: Db) {
  async function checkRules (repo: ReturnType<typeof createRegionsRepository>, input: RegionInput) {
    assertLevelMatchesCode(input.code, input.level)
    const parent = input.parentCode !== null ? await repo.get(input.parentCode) : undefined
    assertValidParent(input, parent, input.parentCode)
  }

  return {
    async create (input: RegionInput): Promise<RegionRow> {
      return db.transaction(async (tx) => {
        const repo = createRegionsRepository(tx)
        if (await repo.get(input.code) !== undefined) {
          throw new ApiError('REGION_EXISTS', `Region ${input.code} already exists; use PUT to replace it.`)
        }
        await checkRules(repo, input)
        return repo.insert(input)
      })
    },

    /** PUT: creates (created=true) or replaces the region. */
    async put (request: FastifyRequest, input: RegionInput): Promise<{ row: RegionRow, created: boolean }> {
      return db.transaction(async (tx) => {
        const repo = createRegionsRepository(tx)
        const existing = await repo.get(input.code, true)
        assertIfMatch(request, existing?.revision)
        if (existing !== undefined && request.headers['if-none-match'] === '*') {
          throw new ApiError('PRECONDITION_FAILED', `Region ${input.code} already exists (If-None-Match: *).`)
        }
        await checkRules(repo, input)
        if (existing === undefined) return { row: await repo.insert(input), created: true }
        const { code, ...rest } = input
        return { row: await repo.update(code, rest), created: false }
      })
    },

    async patch (request: FastifyRequest, code: string, patch: RegionPatch): Promise<RegionRow> {
      return db.transaction(async (tx) => {
        const repo = createRegionsRepository(tx)
        const existing = await repo.get(code, true)
        if (existing === undefined) throw regionNotFound(code)
        assertIfMatch(request, existing.revision)
        const merged: RegionInput = {
          code,
          name: patch.name ?? existing.name,
          nameEn: patch.nameEn !== undefined ? patch.nameEn : existing.nameEn,
          level: patch.level ?? existing.level,
          parentCode: patch.parentCode !== undefined ? patch.parentCode : existing.parentCode
        }
        await checkRules(repo, merged)
        const { code: _code, ...rest } = merged
        return repo.update(code, rest)
      })
    },

    async remove (request: FastifyRequest, code: string): Promise<void> {
      await db.transaction(async (tx) => {
        const repo = createRegionsRepository(tx)
        const existing = await repo.get(code, true)
        if (existing === undefined) throw regionNotFound(code)
        assertIfMatch(request, existing.revision)
        const usage = await repo.usage(code)
        if (usage.children > 0 || usage.plans > 0 || usage.values > 0) {
          const held = [
            usage.children > 0 ? `${usage.children} sub-region(s)` : '',
            usage.plans > 0 ? `${usage.plans} plan(s)` : '',
            usage.values > 0 ? 'yearly values' : ''
          ].filter((s) => s !== '').join(', ')
          throw new ApiError('REGION_IN_USE', `Region ${code} still holds ${held}; remove them first.`)
        }
        await repo.delete(code)
      })
    }
  }
}
