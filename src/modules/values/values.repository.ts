import { and, asc, desc, eq, gt, gte, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { currentActor, regions, yearlyValues } from '../../db/schema.ts'
import type { Breakdown } from './values.schemas.ts'
import type { ValueData, ValueKind, ValueRow } from './values.rules.ts'

export interface ValueFilter {
  region?: string
  includeDescendants?: boolean
  indicator?: string
  kind?: ValueKind
  plan?: string
  from?: number
  to?: number
  status?: NonNullable<ValueRow['status']>
  breakdown: Breakdown | '*'
  after?: [number, number]
  limit: number
}

const v = yearlyValues

function breakdownCondition (b: Breakdown | '*'): SQL | undefined {
  if (b === '*') return undefined
  const dim = <K extends keyof Breakdown>(col: typeof v.category | typeof v.grade | typeof v.sex | typeof v.area, key: K) =>
    b[key] !== undefined ? eq(col, b[key] as never) : isNull(col)
  return and(dim(v.category, 'category'), dim(v.grade, 'grade'), dim(v.sex, 'sex'), dim(v.area, 'area'))
}

/** Codes of a region and everything below it, as a sub-select. */
export function subtreeOf (code: string): SQL {
  return sql`(with recursive down(code, depth) as (
      select code, 0 from ${regions} where code = ${code}
      union all
      select r.code, down.depth + 1 from ${regions} r join down on r.parent_code = down.code where down.depth < 10
    ) select code from down)`
}

function filterConditions (f: Omit<ValueFilter, 'after' | 'limit'>): Array<SQL | undefined> {
  const region = f.region === undefined
    ? undefined
    : f.includeDescendants === true ? sql`${v.regionCode} in ${subtreeOf(f.region)}` : eq(v.regionCode, f.region)
  return [
    region,
    f.indicator !== undefined ? eq(v.indicatorCode, f.indicator) : undefined,
    f.kind !== undefined ? eq(v.kind, f.kind) : undefined,
    f.plan !== undefined ? eq(v.planId, f.plan) : undefined,
    f.from !== undefined ? gte(v.fromYear, f.from) : undefined,
    f.to !== undefined ? lte(v.year, f.to) : undefined,
    f.status !== undefined ? eq(v.status, f.status) : undefined,
    breakdownCondition(f.breakdown)
  ]
}

export function createValuesRepository (db: Db) {
  return {
    async get (id: number, forUpdate = false): Promise<ValueRow | undefined> {
      const q = db.select().from(v).where(eq(v.id, id))
      return (forUpdate ? await q.for('update') : await q)[0]
    },

    /** Ordered by (year, id): chronological, stable under inserts. */
    async list (f: ValueFilter): Promise<ValueRow[]> {
      return db.select().from(v).where(and(
        ...filterConditions(f),
        f.after !== undefined ? or(gt(v.year, f.after[0]), and(eq(v.year, f.after[0]), gt(v.id, f.after[1]))) : undefined
      )).orderBy(asc(v.year), asc(v.id)).limit(f.limit + 1)
    },

    /**
     * Per region, indicator and breakdown, the most recent actual: the latest year, and
     * for one year the shortest period (a single-year figure before a multi-year total).
     * Ordered by (region, indicator, id).
     */
    async listLatest (f: Omit<ValueFilter, 'after'> & { after?: [string, string, number] }): Promise<ValueRow[]> {
      const latest = db.selectDistinctOn([v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area]).from(v)
        .where(and(...filterConditions({ ...f, kind: 'actual' })))
        .orderBy(v.regionCode, v.indicatorCode, v.category, v.grade, v.sex, v.area, desc(v.year), desc(v.fromYear))
        .as('latest')
      const a = f.after
      return db.select().from(latest).where(a !== undefined
        ? sql`(${latest.regionCode}, ${latest.indicatorCode}, ${latest.id}) > (${a[0]}, ${a[1]}, ${a[2]})`
        : undefined)
        .orderBy(asc(latest.regionCode), asc(latest.indicatorCode), asc(latest.id)).limit(f.limit + 1)
    },

    async listByPlan (planId: string, after: [number, number] | undefined, limit: number): Promise<ValueRow[]> {
      return db.select().from(v).where(and(
        eq(v.planId, planId),
        after !== undefined ? or(gt(v.year, after[0]), and(eq(v.year, after[0]), gt(v.id, after[1]))) : undefined
      )).orderBy(asc(v.year), asc(v.id)).limit(limit + 1)
    },

    async allOfPlan (planId: string, forUpdate = false): Promise<ValueRow[]> {
      const q = db.select().from(v).where(eq(v.planId, planId)).orderBy(asc(v.id))
      return forUpdate ? q.for('update') : q
    },

    async insert (data: ValueData): Promise<ValueRow> {
      return (await db.insert(v).values(data).returning())[0]!
    },

    async insertMany (rows: ValueData[]): Promise<ValueRow[]> {
      if (rows.length === 0) return []
      return db.insert(v).values(rows).returning()
    },

    async update (id: number, data: ValueData): Promise<ValueRow> {
      return (await db.update(v)
        .set({ ...data, revision: sql`${v.revision} + 1`, updatedAt: sql`now()`, updatedBy: currentActor })
        .where(eq(v.id, id)).returning())[0]!
    },

    async delete (id: number): Promise<void> {
      await db.delete(v).where(eq(v.id, id))
    },

    async deleteMany (ids: number[]): Promise<void> {
      if (ids.length > 0) await db.delete(v).where(inArray(v.id, ids))
    }
  }
}

export type ValuesRepository = ReturnType<typeof createValuesRepository>
