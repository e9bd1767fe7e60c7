import type { Db } from '../../db/client.ts'
import { statement } from '../../db/query.ts'
import { breakdownOf, type ValueFields } from '../values/values.model.ts'
import type { ActualFacts, PlanFacts, PlanTarget, TargetFacts } from './progress.service.ts'

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
  nature: PlanTarget['nature']
  /** JSON text: the actuals, newest first. */
  actuals: string
}

/** How many actuals of a target are read at most: the latest six for a trend, or a ten-year period's yearly figures. */
const ACTUALS_PER_TARGET = 12

/**
 * One round trip: the plan (no row when it does not exist), each of its targets, and for
 * each target the actuals it may be judged by, found by a lateral index probe on
 * yearly_values (region, indicator, year): those of the same breakdown at or before asOf,
 * single-year ones and any of exactly the target's period, newest first. Its cost grows
 * with the plan's target count, not with the size of the table.
 */
const PROGRESS_SQL = `
select p.start_year, p.end_year, p.baseline_year as plan_baseline_year,
       t.id::text as id, t.region_code, t.indicator_code, t.from_year, t.year,
       t.category::text as category, t.grade::text as grade, t.sex::text as sex, t.area::text as area,
       t.value::text as value, t.comparator::text as comparator, t.binding::text as binding,
       t.baseline_year, t.baseline_value::text as baseline_value, t.qualitative,
       i.direction::text as direction, i.nature::text as nature,
       coalesce(a.actuals, '[]') as actuals
from plans p
left join yearly_values t on t.plan_id = p.id
left join indicators i on i.code = t.indicator_code
left join lateral (
  select json_agg(json_build_object('id', a.id, 'fromYear', a.from_year, 'year', a.year, 'value', a.value::text,
           'status', a.status, 'asOf', a.as_of::text) order by a.year desc, a.from_year desc)::text as actuals
  from (
    select a.id, a.from_year, a.year, a.value, a.status, a.as_of
    from yearly_values a
    where a.region_code = t.region_code and a.indicator_code = t.indicator_code
      and a.kind = 'actual' and a.year <= $2
      and (a.from_year = a.year or (a.from_year = t.from_year and a.year = t.year))
      and a.category is not distinct from t.category and a.grade is not distinct from t.grade
      and a.sex is not distinct from t.sex and a.area is not distinct from t.area
    order by a.year desc, a.from_year desc
    limit ${ACTUALS_PER_TARGET}
  ) a
) a on true
where p.id = $1
order by t.year, t.id`

const progressOfPlan = statement<Row>('progress_of_plan', PROGRESS_SQL)

export function createProgressRepository (db: Db) {
  const progress = (params: unknown[]) => progressOfPlan.run(db, params)

  return {
    /** The plan and its targets with their actuals; undefined when no plan has this id. */
    async targetsWithActuals (planId: string, asOf: number): Promise<{ plan: PlanFacts, targets: PlanTarget[] } | undefined> {
      const rows = await progress([planId, asOf])
      const first = rows[0]
      if (first === undefined) return undefined
      const plan: PlanFacts = { startYear: first.start_year, endYear: first.end_year, baselineYear: first.plan_baseline_year }
      const targets = rows.filter((r) => r.id !== null).map((r): PlanTarget => ({
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
        nature: r.nature,
        actuals: JSON.parse(r.actuals) as ActualFacts[]
      }))
      return { plan, targets }
    }
  }
}
