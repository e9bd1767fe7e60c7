import { asc, eq } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { valueHistory } from '../../db/schema.ts'
import { createValuesRepository } from './values.repository.ts'
import { toValueResource, type ValueRecord, type ValueRow } from './values.rules.ts'

type Resource = ReturnType<typeof toValueResource>

export interface HistoryEntry {
  revision: number
  op: 'create' | 'update' | 'delete'
  at: Date | string
  actor: string
  before: Resource | null
  after: Resource | null
}

/** A snapshot written by the trigger (to_jsonb of the row, decimals as text) back into a row. */
function fromState (state: Record<string, unknown>): ValueRow {
  const s = state as Record<string, any>
  return {
    id: Number(s.id),
    kind: s.kind,
    planId: s.plan_id,
    regionCode: s.region_code,
    indicatorCode: s.indicator_code,
    fromYear: s.from_year,
    year: s.year,
    category: s.category,
    grade: s.grade,
    sex: s.sex,
    area: s.area,
    value: s.value,
    status: s.status,
    numerator: s.numerator,
    denominator: s.denominator,
    asOf: s.as_of,
    comparator: s.comparator,
    binding: s.binding,
    baselineYear: s.baseline_year,
    baselineValue: s.baseline_value,
    qualitative: s.qualitative,
    source: s.source,
    note: s.note,
    revision: s.revision,
    updatedBy: s.updated_by,
    createdAt: new Date(s.created_at),
    updatedAt: new Date(s.updated_at)
  }
}

/**
 * Every revision of a value, oldest first: who made it, when, and the value before and
 * after. Superseded revisions come from value_history, the current one from the row; a
 * deleted value ends with a `delete` entry. Undefined when the id never existed.
 */
export async function valueHistoryOf (db: Db, id: number): Promise<HistoryEntry[] | undefined> {
  const [snapshots, current] = [
    await db.select().from(valueHistory).where(eq(valueHistory.valueId, id)).orderBy(asc(valueHistory.revision)),
    await createValuesRepository(db).get(id)
  ]
  if (snapshots.length === 0 && current === undefined) return undefined
  const states: ValueRecord[] = snapshots.map((s) => fromState(s.state as Record<string, unknown>))
  if (current !== undefined) states.push(current)
  const entries: HistoryEntry[] = states.map((state, i) => ({
    revision: state.revision,
    op: i === 0 ? 'create' : 'update',
    at: state.updatedAt,
    actor: state.updatedBy,
    before: i > 0 ? toValueResource(states[i - 1]!) : null,
    after: toValueResource(state)
  }))
  const last = snapshots[snapshots.length - 1]
  if (current === undefined && last !== undefined && last.supersededOp === 'delete') {
    entries.push({
      revision: last.revision,
      op: 'delete',
      at: last.supersededAt,
      actor: last.supersededBy,
      before: toValueResource(states[states.length - 1]!),
      after: null
    })
  }
  return entries
}
