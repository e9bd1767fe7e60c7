import { and, asc, eq, gt, gte, lte, ne, or, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { queryRows } from '../../db/query.ts'
import { subtreeOf } from '../../db/region-tree.ts'
import { currentActor, plans, yearlyValues } from '../../db/schema.ts'

export type PlanRow = typeof plans.$inferSelect
export type PlanInput = Omit<typeof plans.$inferInsert, 'revision' | 'createdAt' | 'updatedAt'>

export function createPlansRepository (db: Db) {
  return {
    async get (id: string, forUpdate = false): Promise<PlanRow | undefined> {
      const q = db.select().from(plans).where(eq(plans.id, id))
      return (forUpdate ? await q.for('update') : await q)[0]
    },

    async list (filter: { region?: string, kind?: PlanRow['kind'], year?: number, after?: string, limit: number }) {
      return db.select().from(plans).where(and(
        filter.region !== undefined ? eq(plans.regionCode, filter.region) : undefined,
        filter.kind !== undefined ? eq(plans.kind, filter.kind) : undefined,
        filter.year !== undefined ? and(lte(plans.startYear, filter.year), gte(plans.endYear, filter.year)) : undefined,
        filter.after !== undefined ? gt(plans.id, filter.after) : undefined
      )).orderBy(asc(plans.id)).limit(filter.limit + 1)
    },

    /** The plan holding this document number, other than `exceptId`. */
    async byDocumentNumber (documentNumber: string, exceptId: string): Promise<PlanRow | undefined> {
      return (await db.select().from(plans).where(and(eq(plans.documentNumber, documentNumber), ne(plans.id, exceptId))))[0]
    },

    /** Ids from `id` up through its parents (stops at 20 to be safe against bad data). */
    async ancestry (id: string): Promise<string[]> {
      const rows = await queryRows<{ id: string }>(db, sql`
        with recursive up(id, parent_plan_id, depth) as (
          select id, parent_plan_id, 0 from plans where id = ${id}
          union all
          select p.id, p.parent_plan_id, up.depth + 1 from plans p join up on p.id = up.parent_plan_id where up.depth < 20
        ) select id from up`)
      return rows.map((r) => r.id)
    },

    async childCount (id: string): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(plans).where(eq(plans.parentPlanId, id))
      return row?.n ?? 0
    },

    /** Targets of the plan that would fall outside the given region subtree or years. */
    async targetsOutside (id: string, regionCode: string, startYear: number, endYear: number): Promise<number> {
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(yearlyValues).where(and(
        eq(yearlyValues.planId, id),
        or(
          sql`${yearlyValues.regionCode} not in ${subtreeOf(regionCode)}`,
          sql`${yearlyValues.fromYear} < ${startYear}`,
          sql`${yearlyValues.year} > ${endYear}`
        )
      ))
      return row?.n ?? 0
    },

    async insert (input: PlanInput): Promise<PlanRow> {
      return (await db.insert(plans).values(input).returning())[0]!
    },

    async update (id: string, input: Omit<PlanInput, 'id'>): Promise<PlanRow> {
      return (await db.update(plans)
        .set({ ...input, revision: sql`${plans.revision} + 1`, updatedAt: sql`now()`, updatedBy: currentActor })
        .where(eq(plans.id, id)).returning())[0]!
    },

    async delete (id: string): Promise<void> {
      await db.delete(plans).where(eq(plans.id, id))
    }
  }
}
