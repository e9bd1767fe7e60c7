import { and, asc, eq, gt, ilike, or, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { currentActor, indicators, yearlyValues } from '../../db/schema.ts'
import { likePattern } from '../../lib/pagination.ts'

export type IndicatorRow = typeof indicators.$inferSelect
export type IndicatorInput = Omit<typeof indicators.$inferInsert, 'revision' | 'createdAt' | 'updatedAt'>

export function createIndicatorsRepository (db: Db) {
  return {
    async get (code: string, forUpdate = false): Promise<IndicatorRow | undefined> {
      const q = db.select().from(indicators).where(eq(indicators.code, code))
      return (forUpdate ? await q.for('update') : await q)[0]
    },

    async list (filter: { domain?: IndicatorRow['domain'], q?: string, after?: string, limit: number }) {
      return db.select().from(indicators).where(and(
        filter.domain !== undefined ? eq(indicators.domain, filter.domain) : undefined,
        filter.q !== undefined
          ? or(ilike(indicators.name, likePattern(filter.q)), ilike(indicators.nameEn, likePattern(filter.q)), ilike(indicators.code, likePattern(filter.q)))
          : undefined,
        filter.after !== undefined ? gt(indicators.code, filter.after) : undefined
      )).orderBy(asc(indicators.code)).limit(filter.limit + 1)
    },

    async insert (input: IndicatorInput): Promise<IndicatorRow> {
      return (await db.insert(indicators).values(input).returning())[0]!
    },

    async update (code: string, input: Omit<IndicatorInput, 'code'>): Promise<IndicatorRow> {
      return (await db.update(indicators)
        .set({ ...input, revision: sql`${indicators.revision} + 1`, updatedAt: sql`now()`, updatedBy: currentActor })
        .where(eq(indicators.code, code)).returning())[0]!
    },

    /** How many values of the indicator fall outside [min, max]. */
    async countOutside (code: string, min: string | null, max: string | null): Promise<number> {
      if (min === null && max === null) return 0
      const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(yearlyValues).where(and(
        eq(yearlyValues.indicatorCode, code),
        or(
          min !== null ? sql`${yearlyValues.value} < ${min}::numeric` : undefined,
          max !== null ? sql`${yearlyValues.value} > ${max}::numeric` : undefined
        )
      ))
      return row?.n ?? 0
    },

    async hasValues (code: string): Promise<boolean> {
      const rows = await db.select({ one: sql`1` }).from(yearlyValues).where(eq(yearlyValues.indicatorCode, code)).limit(1)
      return rows.length > 0
    },

    async delete (code: string): Promise<void> {
      await db.delete(indicators).where(eq(indicators.code, code))
    }
  }
}
