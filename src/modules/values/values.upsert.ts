import { sql } from 'drizzle-orm'
import { queryRows, type Db } from '../../db/client.ts'
import { naturalKey, type ValueData } from './values.rules.ts'

/**
 * Set-based upsert of checked values by natural key: one `INSERT ... SELECT FROM unnest`
 * per batch, whatever its size (drizzle's row-object builder is CPU-bound on large
 * batches). A row whose stored content is identical is left alone (no revision bump),
 * so sending the same data twice changes nothing.
 * Answers, in input order, what happened to each row.
 */
export async function upsertValues (db: Db, rows: ValueData[]): Promise<Array<'created' | 'updated' | 'unchanged'>> {
  if (rows.length === 0) return []
  const col = <K extends keyof ValueData>(k: K) => sql.param(rows.map((r) => r[k] ?? null))
  // Enum arrays are sent as text[] and cast per element (PGlite binds JS arrays as text).
  const result = await queryRows<{ inserted: boolean, key: string }>(db, sql`
    with input as (
      select * from unnest(
        ${col('kind')}::text[], ${col('planId')}::text[], ${col('regionCode')}::text[], ${col('indicatorCode')}::text[],
        ${col('fromYear')}::int[], ${col('year')}::int[],
        ${col('category')}::text[], ${col('grade')}::text[], ${col('sex')}::text[], ${col('area')}::text[],
        ${col('value')}::text[], ${col('status')}::text[], ${col('numerator')}::text[], ${col('denominator')}::text[], ${col('asOf')}::text[],
        ${col('comparator')}::text[], ${col('binding')}::text[], ${col('baselineYear')}::int[], ${col('baselineValue')}::text[],
        ${col('qualitative')}::text[], ${col('source')}::text[], ${col('note')}::text[]
      ) with ordinality as t(kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area,
        value, status, numerator, denominator, as_of, comparator, binding, baseline_year, baseline_value, qualitative, source, note, n)
    )
    insert into yearly_values as v (kind, plan_id, region_code, indicator_code, from_year, year, category, grade, sex, area,
      value, status, numerator, denominator, as_of, comparator, binding, baseline_year, baseline_value, qualitative, source, note)
    select kind::value_kind, plan_id, region_code, indicator_code, from_year, year,
      category::disability_category, grade::disability_grade, sex::sex, area::area,
      value::numeric, status::actual_status, numerator::numeric, denominator::numeric, as_of::date,
      comparator::comparator, binding::binding, baseline_year, baseline_value::numeric, qualitative, source, note
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
    returning (xmax = 0) as inserted, v.kind::text || '|' || coalesce(v.plan_id, '') || '|' || v.region_code || '|' || v.indicator_code || '|' || v.from_year || '|' || v.year || '|' || coalesce(v.category::text, '') || '|' || coalesce(v.grade::text, '') || '|' || coalesce(v.sex::text, '') || '|' || coalesce(v.area::text, '') as key`)
  const outcome = new Map<string, 'created' | 'updated'>()
  for (const r of result) outcome.set(r.key, r.inserted ? 'created' : 'updated')
  return rows.map((r) => outcome.get(naturalKey(r)) ?? 'unchanged')
}
