import { sql, type Placeholder, type SQL } from 'drizzle-orm'
import type { Db } from './client.ts'
import { queryRows } from './query.ts'
import { regions } from './schema.ts'

/**
 * Queries over the region tree (each region names its parent), used wherever a write or a
 * read concerns "a region and everything below it": the region lists, the value filter,
 * a plan's targets, an editor's scope. Depth is bounded, so bad data cannot loop.
 */

/** Codes of a region and everything below it, as a sub-select. */
export function subtreeOf (code: string | Placeholder): SQL {
  return sql`(with recursive down(code, depth) as (
      select code, 0 from ${regions} where code = ${code}
      union all
      select r.code, down.depth + 1 from ${regions} r join down on r.parent_code = down.code where down.depth < 10
    ) select code from down)`
}

/** Which of `codes` exist. */
export async function existingRegions (db: Db, codes: readonly string[]): Promise<Set<string>> {
  if (codes.length === 0) return new Set()
  const rows = await db.select({ code: regions.code }).from(regions).where(sql`${regions.code} = any(${sql.param([...codes])}::text[])`)
  return new Set(rows.map((r) => r.code))
}

/** Which of `codes` are `root` itself or lie below it (walking up from each code). */
export async function regionsWithin (db: Db, root: string, codes: readonly string[]): Promise<Set<string>> {
  if (codes.length === 0) return new Set()
  const result = await queryRows<{ start: string }>(db, sql`
    with recursive up(start, code, parent_code, depth) as (
      select code, code, parent_code, 0 from regions where code = any(${sql.param([...codes])}::text[])
      union all
      select up.start, r.code, r.parent_code, up.depth + 1 from regions r join up on r.code = up.parent_code
      where up.depth < 10
    )
    select distinct start from up where code = ${root}`)
  return new Set(result.map((r) => r.start))
}
