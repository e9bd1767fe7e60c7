import { inArray, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { queryRows } from '../../db/query.ts'
import { regions } from '../../db/schema.ts'
import { writeTransaction } from '../../db/transaction.ts'
import type { RegionInput } from './regions.repository.ts'
import { assertLevelMatchesCode, assertValidParent, type RegionLevel } from './regions.rules.ts'

const rank: Record<RegionLevel, number> = { national: 0, province: 1, prefecture: 2, county: 3, township: 4 }

/**
 * Creates or updates many regions at once (the national division list, a province's
 * townships). Every region is checked against the same rules as a single write, with
 * parents looked up in the batch first and then in the database; the batch is written
 * level by level with one set-based statement each. A region whose stored fields are
 * the same is left alone, so loading the same list twice changes nothing; a stored
 * English name is kept when the batch has none.
 */
export async function upsertRegions (db: Db, inputs: RegionInput[], actor: string): Promise<{ created: number, updated: number, unchanged: number }> {
  const batch = new Map(inputs.map((r) => [r.code, r]))
  const missingParents = [...new Set(inputs.flatMap((r) => (r.parentCode !== null && !batch.has(r.parentCode) ? [r.parentCode] : [])))]
  const stored = missingParents.length > 0
    ? await db.select({ code: regions.code, level: regions.level }).from(regions).where(inArray(regions.code, missingParents))
    : []
  const known = new Map<string, { code: string, level: RegionLevel }>([...stored.map((r) => [r.code, r] as const), ...batch])
  for (const r of inputs) {
    assertLevelMatchesCode(r.code, r.level)
    assertValidParent(r, r.parentCode !== null ? known.get(r.parentCode) : undefined, r.parentCode)
  }

  let created = 0
  let updated = 0
  await writeTransaction(db, actor, async (tx) => {
    for (const level of Object.keys(rank) as RegionLevel[]) {
      const rows = inputs.filter((r) => r.level === level)
      if (rows.length === 0) continue
      const result = await queryRows<{ inserted: boolean }>(tx, sql`
        insert into regions as r (code, name, name_en, level, parent_code)
        select code, name, name_en, level::region_level, parent_code from unnest(
          ${sql.param(rows.map((x) => x.code))}::text[], ${sql.param(rows.map((x) => x.name))}::text[],
          ${sql.param(rows.map((x) => x.nameEn))}::text[], ${sql.param(rows.map((x) => x.level))}::text[],
          ${sql.param(rows.map((x) => x.parentCode))}::text[]
        ) as t(code, name, name_en, level, parent_code)
        on conflict (code) do update set
          name = excluded.name, name_en = coalesce(excluded.name_en, r.name_en), level = excluded.level,
          parent_code = excluded.parent_code, revision = r.revision + 1, updated_at = now(), updated_by = registry_actor()
        where (r.name, r.name_en, r.level, r.parent_code)
          is distinct from (excluded.name, coalesce(excluded.name_en, r.name_en), excluded.level, excluded.parent_code)
        returning (xmax = 0) as inserted`)
      for (const row of result) {
        if (row.inserted) created++
        else updated++
      }
    }
  })
  return { created, updated, unchanged: inputs.length - created - updated }
}
