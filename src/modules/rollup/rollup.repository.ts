import type { Db } from '../../db/client.ts'
import { statement } from '../../db/query.ts'
import type { RegionLevel } from '../regions/regions.rules.ts'
import type { Breakdown } from '../values/values.schemas.ts'

/** One row of the rollup statement (see rollupSql). */
export interface RollupRow {
  /** `regions`: how many regions of `level` lie below; `data`: values at `level` in `year`; `own`: the region's own value. */
  part: 'regions' | 'data' | 'own'
  level: RegionLevel
  year: number | null
  count: number
  valueSum: string | null
  numeratorSum: string | null
  denominatorSum: string | null
  /** Values that carry both a numerator and a denominator (the ratio is taken over these). */
  withParts: number
  ownId: string | null
  ownStatus: 'provisional' | 'final' | 'estimated' | null
}

/**
 * Everything a rollup needs in one round trip: the subtree of the region (recursive walk
 * down regions_parent_idx), how many regions sit at each level of it, and per level and
 * year the sums of the single-year actuals of one indicator, found region by region with
 * index probes (a lateral subquery kept apart by `offset 0`, so the plan stays
 * region-first whatever the estimates of a generic plan). The cost follows the size of
 * the subtree and the years asked for, not the size of the table. `$5` (level) null means every level: the caller then picks the
 * lowest level that has data. Totals (no breakdown) are read index-only from
 * yearly_values_actual_totals_idx, whose predicate the statement repeats word for word;
 * a breakdown is matched on (region, indicator, year) of yearly_values_series_idx.
 */
export function rollupSql (breakdown: 'total' | 'breakdown'): string {
  const match = breakdown === 'total'
    ? 'v.category is null and v.grade is null and v.sex is null and v.area is null'
    : `v.category is not distinct from $6::disability_category and v.grade is not distinct from $7::disability_grade
  and v.sex is not distinct from $8::sex and v.area is not distinct from $9::area`
  return `
with recursive down(code, level, depth) as (
  select code, level, 0 from regions where code = $1
  union all
  select r.code, r.level, d.depth + 1 from regions r join down d on r.parent_code = d.code where d.depth < 10
)
select 'regions' as part, d.level::text as level, null::int as year, count(*)::int as count,
       null::text as value_sum, null::text as numerator_sum, null::text as denominator_sum, 0 as with_parts,
       null::text as own_id, null::text as own_status
from down d where d.depth > 0
group by d.level
union all
select case when d.depth = 0 then 'own' else 'data' end, d.level::text, v.year, count(*)::int,
       sum(v.value)::text,
       sum(v.numerator) filter (where v.numerator is not null and v.denominator is not null)::text,
       sum(v.denominator) filter (where v.numerator is not null and v.denominator is not null)::text,
       (count(*) filter (where v.numerator is not null and v.denominator is not null))::int,
       min(v.id)::text, min(v.status::text)
from down d
cross join lateral (
  select v.year, v.value, v.numerator, v.denominator, v.id, v.status from yearly_values v
  where v.region_code = d.code and v.indicator_code = $2 and v.kind = 'actual' and v.from_year = v.year
    and v.year between $3 and $4 and ${match}
  offset 0
) v
where d.depth = 0 or $5::region_level is null or d.level = $5::region_level
group by 1, 2, 3`
}

interface RawRow {
  part: RollupRow['part']
  level: RegionLevel
  year: number | null
  count: number
  value_sum: string | null
  numerator_sum: string | null
  denominator_sum: string | null
  with_parts: number
  own_id: string | null
  own_status: RollupRow['ownStatus']
}

export interface RollupQuery {
  region: string
  indicator: string
  from: number
  to: number
  breakdown: Breakdown
  level: RegionLevel | undefined
}

/** A region's level and an indicator's rules, looked up together (null when absent). */
export interface Subject {
  regionLevel: RegionLevel | null
  indicator: { code: string, aggregation: 'sum' | 'ratio' | 'none', direction: 'increase' | 'decrease', unit: string } | null
}

const SUBJECT_SQL = `
select (select level::text from regions where code = $1) as region_level,
       i.code, i.aggregation::text as aggregation, i.direction::text as direction, i.unit::text as unit
from (select 1) one left join indicators i on i.code = $2`

const monitoringSubject = statement<{ region_level: RegionLevel | null, code: string | null, aggregation: 'sum' | 'ratio' | 'none', direction: 'increase' | 'decrease', unit: string }>('monitoring_subject', SUBJECT_SQL)
const rollupOfRegionTotals = statement<RawRow>('rollup_of_region_totals', rollupSql('total'))
const rollupOfRegionBreakdown = statement<RawRow>('rollup_of_region_breakdown', rollupSql('breakdown'))

export function createSubjectLookup (db: Db) {
  const subject = (params: unknown[]) => monitoringSubject.run(db, params)
  return async (region: string, indicator: string): Promise<Subject> => {
    const [r] = await subject([region, indicator])
    return {
      regionLevel: r?.region_level ?? null,
      indicator: r?.code == null ? null : { code: r.code, aggregation: r.aggregation, direction: r.direction, unit: r.unit }
    }
  }
}

export function createRollupRepository (db: Db) {
  const totals = (params: unknown[]) => rollupOfRegionTotals.run(db, params)
  const breakdowns = (params: unknown[]) => rollupOfRegionBreakdown.run(db, params)
  return {
    subject: createSubjectLookup(db),

    async rows (q: RollupQuery): Promise<RollupRow[]> {
      const b = q.breakdown
      const common = [q.region, q.indicator, q.from, q.to, q.level ?? null]
      const raw = Object.keys(b).length === 0
        ? await totals(common)
        : await breakdowns([...common, b.category ?? null, b.grade ?? null, b.sex ?? null, b.area ?? null])
      return raw.map((r) => ({
        part: r.part,
        level: r.level,
        year: r.year,
        count: r.count,
        valueSum: r.value_sum,
        numeratorSum: r.numerator_sum,
        denominatorSum: r.denominator_sum,
        withParts: r.with_parts,
        ownId: r.own_id,
        ownStatus: r.own_status
      }))
    }
  }
}
