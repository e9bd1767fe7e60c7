import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import { ApiError, notFound } from '../../errors/catalogue.ts'
import { sameFields, type WriteContext } from '../../lib/write-context.ts'
import { createRegionsRepository, type RegionInput, type RegionRow } from './regions.repository.ts'
import { assertLevelMatchesCode, assertValidParent } from './regions.rules.ts'
import type { RegionPatch } from './regions.schemas.ts'

/** Use cases that write regions: each runs in one transaction and checks the region rules. */
export function createRegionsService (db: Db) {
  async function checkRules (repo: ReturnType<typeof createRegionsRepository>, input: RegionInput) {
    assertLevelMatchesCode(input.code, input.level)
    const parent = input.parentCode !== null ? await repo.get(input.parentCode) : undefined
    assertValidParent(input, parent, input.parentCode)
  }

  /** Creates or replaces under the preconditions; a replacement that changes nothing writes nothing. */
  async function write (ctx: WriteContext, code: string, next: (existing: RegionRow | undefined) => RegionInput, mustExist: boolean) {
    return writeTransaction(db, ctx.actor, async (tx) => {
      const repo = createRegionsRepository(tx)
      const existing = await repo.get(code, true)
      if (existing === undefined && mustExist) throw notFound.region(code)
      assertIfMatch(ctx, existing?.revision)
      const input = next(existing)
      await checkRules(repo, input)
      if (existing === undefined) return { row: await repo.insert(input), created: true }
      const { code: _code, ...rest } = input
      if (sameFields(existing, rest)) return { row: existing, created: false }
      return { row: await repo.update(code, rest), created: false }
    })
  }

  return {
    async create (ctx: WriteContext, input: RegionInput): Promise<RegionRow> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createRegionsRepository(tx)
        if (await repo.get(input.code) !== undefined) {
          throw new ApiError('REGION_EXISTS', `Region ${input.code} already exists; use PUT to replace it.`)
        }
        await checkRules(repo, input)
        return repo.insert(input)
      })
    },

    /** PUT: creates (created=true) or replaces the region. */
    put: (ctx: WriteContext, input: RegionInput) => write(ctx, input.code, () => input, false),

    patch: async (ctx: WriteContext, code: string, patch: RegionPatch): Promise<RegionRow> => (await write(ctx, code, (existing) => {
      const e = existing!
      return {
        code,
        name: patch.name ?? e.name,
        nameEn: patch.nameEn !== undefined ? patch.nameEn : e.nameEn,
        level: patch.level ?? e.level,
        parentCode: patch.parentCode !== undefined ? patch.parentCode : e.parentCode
      }
    }, true)).row,

    async remove (ctx: WriteContext, code: string): Promise<void> {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createRegionsRepository(tx)
        const existing = await repo.get(code, true)
        if (existing === undefined) throw notFound.region(code)
        assertIfMatch(ctx, existing.revision)
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
