import type { Db } from '../../db/client.ts'
import { statement } from '../../db/query.ts'
import type { RegionLevel } from '../regions/regions.rules.ts'

export interface RankingRow {
  rank: number | null
  region_code: string
  region_name: string
  id: string | null
  value: string | null
  status: 'provisional' | 'final' | 'estimated' | null
  /** 0: ranked (has a value), 1: no data. */
  bucket: number
  /** The value signed so that ascending order is best first (0 for no data). */
  sort_key: string
}

/** Where a page starts: after this (bucket, sort key, region code). */
export type RankingCursor = [number, string, string]

/**
 * The regions at `$3` below `$1` (the walk stops at `$3`, so townships are not visited
 * for a county ranking), each left-joined to its single-year total actual of `$2` in `$5`
 * by an index-only probe of yearly_values_actual_totals_idx. The statement repeats the
 * index predicate so the planner can use it, and says `year between $5 and $5` rather than
 * `year = $5`: with an equality the planner would fold `from_year = year` into
 * `from_year = $5` and no longer see that the predicate holds. rank() over the whole set gives competition ranks (1, 2, 2, 4); the
 * keyset condition then cuts the page, so ranks stay global across pages.
 */
export const RANKING_SQL = `
with recursive down(code, level, depth) as (
  select code, level, 0 from regions where code = $1
  union all
  select r.code, r.level, d.depth + 1 from regions r join down d on r.parent_code = d.code
  where d.depth < 10 and d.level <> $3::region_level
),
scored as (
  select d.code, v.id, v.value, v.status,
         case when v.value is null then 1 else 0 end as bucket,
         case when v.value is null then 0 when $4 = 'increase' then -v.value else v.value end as sort_key
  from down d
  left join lateral (
    select v.id, v.value, v.status from yearly_values v
    where v.region_code = d.code and v.indicator_code = $2 and v.kind = 'actual'
      and v.from_year = v.year and v.year between $5 and $5
      and v.category is null and v.grade is null and v.sex is null and v.area is null
    offset 0
  ) v on true
  where d.depth > 0 and d.level = $3::region_level
),
ranked as (
  select s.*, case when s.bucket = 0 then rank() over (partition by s.bucket order by s.sort_key) end as rank
  from scored s
)
select k.rank::int as rank, k.code as region_code, r.name as region_name, k.id::text as id, k.value::text as value,
       k.status::text as status, k.bucket, k.sort_key::text as sort_key
from ranked k join regions r on r.code = k.code
where $6::int is null or (k.bucket, k.sort_key, k.code) > ($6::int, $7::numeric, $8::text)
order by k.bucket, k.sort_key, k.code
limit $9`

export interface RankingQuery {
  within: string
  indicator: string
  level: RegionLevel
  direction: 'increase' | 'decrease'
  year: number
  after: RankingCursor | undefined
  limit: number
}

const rankingOfIndicator = statement<RankingRow>('ranking_of_indicator', RANKING_SQL)

export function createRankingRepository (db: Db) {
  const ranking = (params: unknown[]) => rankingOfIndicator.run(db, params)
  return {
    /** One page (plus one row, to tell whether another page follows). */
    async page (q: RankingQuery): Promise<RankingRow[]> {
      return ranking([q.within, q.indicator, q.level, q.direction, q.year, q.after?.[0] ?? null, q.after?.[1] ?? null, q.after?.[2] ?? null, q.limit + 1])
    }
  }
}
