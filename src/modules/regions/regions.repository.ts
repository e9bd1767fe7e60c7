import { and, asc, eq, gt, ilike, or, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { queryRows } from '../../db/query.ts'
import { subtreeOf } from '../../db/region-tree.ts'
import { currentActor, plans, regions, yearlyValues } from '../../db/schema.ts'
import { likePattern } from '../../lib/pagination.ts'

export type RegionRow = typeof regions.$inferSelect
export type RegionLevel = RegionRow['level']
export interface RegionInput { code: string, name: string, nameEn: string | null, level: RegionLevel, parentCode: string | null }

export function createRegionsRepository (db: Db) {
  return {
    async get (code: string, forUpdate = false): Promise<RegionRow | undefined> {
      const q = db.select().from(regions).where(eq(regions.code, code))
      const rows = forUpdate ? await q.for('update') : await q
      return rows[0]
    },

    async list (filter: { parent?: string, level?: RegionLevel, q?: string, after?: string, limit: number }) {
      const conditions = [
        filter.parent !== undefined ? eq(regions.parentCode, filter.parent) : undefined,
        filter.level !== undefined ? eq(regions.level, filter.level) : undefined,
        // A code matches by prefix: the pattern of likePattern without its leading %, so
        // wildcards in `q` stay escaped (`q=%` must not match every code).
        filter.q !== undefined
          ? or(ilike(regions.name, likePattern(filter.q)), ilike(regions.nameEn, likePattern(filter.q)), ilike(regions.code, likePattern(filter.q).slice(1)))
          : undefined,
        filter.after !== undefined ? gt(regions.code, filter.after) : undefined
      ]
      return db.select().from(regions).where(and(...conditions)).orderBy(asc(regions.code)).limit(filter.limit + 1)
    },

    /** Root first, the region's parent last. */
    async ancestors (code: string): Promise<RegionRow[]> {
      const result = await queryRows<{ code: string }>(db, sql`
        with recursive up(code, parent_code, depth) as (
          select code, parent_code, 0 from regions where code = ${code}
          union all
          select r.code, r.parent_code, up.depth + 1 from regions r join up on r.code = up.parent_code
          where up.depth < 10
        )
        select code, depth from up where depth > 0 order by depth desc`)
      const codes = result.map((r) => r.code)
      if (codes.length === 0) return []
      const rows = await db.select().from(regions).where(sql`${regions.code} in ${codes}`)
      return codes.map((c) => rows.find((r) => r.code === c)!)
    },

    async descendants (code: string, filter: { level?: RegionLevel, after?: string, limit: number }) {
      return db.select().from(regions).where(and(
        sql`${regions.code} in ${subtreeOf(code)}`,
        sql`${regions.code} <> ${code}`,
        filter.level !== undefined ? eq(regions.level, filter.level) : undefined,
        filter.after !== undefined ? gt(regions.code, filter.after) : undefined
      )).orderBy(asc(regions.code)).limit(filter.limit + 1)
    },

    async insert (input: RegionInput): Promise<RegionRow> {
      const [row] = await db.insert(regions).values(input).returning()
      return row!
    },

    async update (code: string, input: Omit<RegionInput, 'code'>): Promise<RegionRow> {
      const [row] = await db.update(regions)
        .set({ ...input, revision: sql`${regions.revision} + 1`, updatedAt: sql`now()`, updatedBy: currentActor })
        .where(eq(regions.code, code)).returning()
      return row!
    },

    /** What still refers to the region (a delete is refused while any is non-zero). */
    async usage (code: string) {
      const [row] = await db.select({
        children: sql<number>`(select count(*)::int from ${regions} where ${regions.parentCode} = ${code})`,
        plans: sql<number>`(select count(*)::int from ${plans} where ${plans.regionCode} = ${code})`,
        values: sql<number>`(select count(*)::int from (select 1 from ${yearlyValues} where ${yearlyValues.regionCode} = ${code} limit 1) v)`
      }).from(sql`(select 1) one`)
      return row!
    },

    async delete (code: string): Promise<void> {
      await db.delete(regions).where(eq(regions.code, code))
    }
  }
}

export type RegionsRepository = ReturnType<typeof createRegionsRepository>
