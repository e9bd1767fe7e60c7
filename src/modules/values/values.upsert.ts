import { sql } from 'drizzle-orm'
import { queryRows, type Db } from '../../db/client.ts'
import type { ValueData } from './values.rules.ts'

/**
 * Set-based upsert of checked values by natural key: one `INSERT ... SELECT FROM json_to_recordset`
 * per batch, whatever its size (drizzle's row-object builder is CPU-bound on large
 * batches). A row whose stored content is identical is left alone (no revision bump),
 * so sending the same data twice changes nothing.
 * Answers how many rows were created, updated and left unchanged (only the counts travel
 * back, not the rows).
 */
export async function upsertValues (db: Db, rows: ValueData[]): Promise<{ created: number, updated: number, unchanged: number }> {
  if (rows.length === 0) return { created: 0, updated: 0, unchanged: 0 }
  // The batch travels as one JSON parameter (JSON.stringify is native; binding 22 arrays
  // of 5,000 elements cost pg's array escaping some 25 ms per batch) and is unpacked with
  // json_to_recordset; enums are cast per column (PGlite binds the same text).
  const [counts] = await queryRows<{ created: number, updated: number }>(db, sql`
    with input as (
      select * from rows from (json_to_recordset(${JSON.stringify(rows)}::json) as (
        kind text, "planId" text, "regionCode" text, "indicatorCode" text, "fromYear" int, year int,
        category text, grade text, sex text, area text,
        value text, status text, numerator text, denominator text, "asOf" text,
        comparator text, binding text, "baselineYear" int, "baselineValue" text,
        qualitative text, source text, note text)) with ordinality as t(
        kind, "planId", "regionCode", "indicatorCode", "fromYear", year, category, grade, sex, area,
        value, status, numerator, denominator, "asOf", comparator, binding, "baselineYear", "baselineValue",
        qualitative, source, note, n)
    )
    , written as (
    insert into yearly_values as v (kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area,
      value, status, numerator, denominator, as_of, comparator, binding, baseline_year, baseline_value, qualitative, source, note)
    select kind::value_kind, "planId", "regionCode", "indicatorCode", "fromYear", year,
      category::disability_category, grade::disability_grade, sex::sex, area::area,
      value::numeric, status::actual_status, numerator::numeric, denominator::numeric, "asOf"::date,
      comparator::comparator, binding::binding, "baselineYear", "baselineValue"::numeric, qualitative, source, note
    from input order by n
    on conflict on constraint yearly_values_natural_key do update set
      value = excluded.value, status = excluded.status, numerator = excluded.numerator, denominator = excluded.denominator,
      as_of = excluded.as_of, comparator = excluded.comparator, binding = excluded.binding,
      baseline_year = excluded.baseline_year, baseline_value = excluded.baseline_value, qualitative = excluded.qualitative,
      source = excluded.source, note = excluded.note,
      revision = v.revision + 1, updated_at = now(), updated_by = registry_actor()
    where (v.value, v.status, v.numerator, v.denominator, v.as_of, v.comparator, v.binding, v.baseline_year, v.baseline_value, v.qualitative, v.source, v.note)
      is distinct from
      (excluded.value, excluded.status, excluded.numerator, excluded.denominator, excluded.as_of, excluded.comparator, excluded.binding, excluded.baseline_year, excluded.baseline_value, excluded.qualitative, excluded.source, excluded.note)
    returning (xmax = 0) as inserted)
    select (count(*) filter (where inserted))::int as created, (count(*) filter (where not inserted))::int as updated from written`)
  const created = counts?.created ?? 0
  const updated = counts?.updated ?? 0
  return { created, updated, unchanged: rows.length - created - updated }
}
