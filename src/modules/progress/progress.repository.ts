import type { Db } from '../../db/client.ts'
import { statement } from '../../db/query.ts'
import { breakdownOf, type ValueFields } from '../values/values.model.ts'
import type { ActualFacts, PlanFacts, TargetFacts } from './progress.service.ts'

interface Row {
  start_year: number
  end_year: number
  plan_baseline_year: number | null
  id: string | null
  region_code: string
  indicator_code: string
  from_year: number
  year: number
  category: ValueFields['category']
  grade: ValueFields['grade']
  sex: ValueFields['sex']
  area: ValueFields['area']
  value: string | null
  comparator: TargetFacts['comparator']
  binding: TargetFacts['binding'] | null
  baseline_year: number | null
  baseline_value: string | null
  qualitative: string | null
  direction: TargetFacts['direction']
  actual_id: string | null
  actual_from_year: number
  actual_year: number
  actual_value: string
  actual_status: ActualFacts['status'] | null
  actual_as_of: string | null
}

/**
 * One round trip: the plan (no row when it does not exist), each of its targets, and for
 * each target the actual it is compared with, chosen by a lateral index probe on
 * yearly_values (region, indicator, year): the latest year at or before asOf of the same
 * breakdown, single-year for a single-year target, the same period for a multi-year one.
 * Its cost grows with the plan's target count, not with the size of the table.
 */
const PROGRESS_SQL = `
select p.start_year, p.end_year, p.baseline_year as plan_baseline_year,
       t.id::text as id, t.region_code, t.indicator_code, t.from_year, t.year,
       t.category::text as category, t.grade::text as grade, t.sex::text as sex, t.area::text as area,
       t.value::text as value, t.comparator::text as comparator, t.binding::text as binding,
       t.baseline_year, t.baseline_value::text as baseline_value, t.qualitative,
       i.direction::text as direction,
       a.id::text as actual_id, a.from_year as actual_from_year, a.year as actual_year,
       a.value::text as actual_value, a.status::text as actual_status, a.as_of::text as actual_as_of
from plans p
left join yearly_values t on t.plan_id = p.id
left join indicators i on i.code = t.indicator_code
left join lateral (
  select a.id, a.from_year, a.year, a.value, a.status, a.as_of
  from yearly_values a
  where a.region_code = t.region_code and a.indicator_code = t.indicator_code
    and a.kind = 'actual' and a.year <= $2
    and case when t.from_year = t.year then a.from_year = a.year
             else a.from_year = t.from_year and a.year = t.year end
    and a.category is not distinct from t.category and a.grade is not distinct from t.grade
    and a.sex is not distinct from t.sex and a.area is not distinct from t.area
  order by a.year desc
  limit 1
) a on true
where p.id = $1
order by t.year, t.id`

const progressOfPlan = statement<Row>('progress_of_plan', PROGRESS_SQL)

export function createProgressRepository (db: Db) {
  const progress = (params: unknown[]) => progressOfPlan.run(db, params)

  return {
    /** The plan and its targets with their actuals; undefined when no plan has this id. */
    async targetsWithActuals (planId: string, asOf: number): Promise<{ plan: PlanFacts, targets: TargetFacts[] } | undefined> {
      const rows = await progress([planId, asOf])
      const first = rows[0]
      if (first === undefined) return undefined
      const plan: PlanFacts = { startYear: first.start_year, endYear: first.end_year, baselineYear: first.plan_baseline_year }
      const targets = rows.filter((r) => r.id !== null).map((r): TargetFacts => ({
        id: Number(r.id),
        regionCode: r.region_code,
        indicatorCode: r.indicator_code,
        fromYear: r.from_year,
        year: r.year,
        breakdown: breakdownOf(r),
        value: r.value,
        comparator: r.comparator,
        binding: r.binding ?? 'expected',
        baselineYear: r.baseline_year,
        baselineValue: r.baseline_value,
        qualitative: r.qualitative,
        direction: r.direction,
        actual: r.actual_id === null
          ? null
          : { id: Number(r.actual_id), fromYear: r.actual_from_year, year: r.actual_year, value: r.actual_value, status: r.actual_status ?? 'final', asOf: r.actual_as_of }
      }))
      return { plan, targets }
    }
  }
}
