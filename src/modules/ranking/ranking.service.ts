import { encodeCursor } from '../../lib/pagination.ts'
import type { RankingCursor, RankingRow } from './ranking.repository.ts'

/** The ranking rules, stated once for the OpenAPI description. */
export const rules = [
  'Regions at `level` below `within` are ranked by their single-year actual (fromYear = year) of `year`, totals only (no breakdown).',
  'Best first by the indicator\'s `direction`: highest first for `increase`, lowest first for `decrease`.',
  'Ties share a rank and the next rank skips (competition ranking 1, 2, 2, 4); tied regions are listed by code.',
  'Regions without an actual that year are listed after every ranked region, by code, with `rank`, `value` and `status` null (so the list always holds every region at the level).',
  'A provisional actual is ranked like any other; its `status` says so.',
  'Paginated like every list (`limit`, `cursor`); ranks are computed over the whole set, so they run on across pages.',
  'Every indicator can be ranked, including `aggregation: none` ones (nothing is combined).'
]

export function toRankingItem (row: RankingRow) {
  return {
    rank: row.rank,
    regionCode: row.region_code,
    regionName: row.region_name,
    value: row.value,
    status: row.status,
    valueId: row.id === null ? null : Number(row.id)
  }
}

/** Cuts the extra row and makes the cursor of the next page. */
export function rankingPage (rows: RankingRow[], limit: number) {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  const next: RankingCursor | undefined = rows.length > limit && last !== undefined ? [last.bucket, last.sort_key, last.region_code] : undefined
  return { items: items.map(toRankingItem), nextCursor: next === undefined ? null : encodeCursor(next) }
}
