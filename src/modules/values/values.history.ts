import { asc, eq } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { valueHistory } from '../../db/schema.ts'
import { createValuesRepository } from './values.repository.ts'
import { decodeStored, toValueResource, type StoredValue } from './values.model.ts'

type Resource = ReturnType<typeof toValueResource>

export interface HistoryEntry {
  revision: number
  op: 'create' | 'update' | 'delete'
  at: string
  actor: string
  before: Resource | null
  after: Resource | null
}

/**
 * A snapshot written by the trigger (to_jsonb of the row, decimals kept as text) as a
 * stored value: keyed by column like a read's row, timestamps in the API's ISO form.
 */
function fromState (state: Record<string, unknown>): StoredValue {
  const value = decodeStored(state)
  value.createdAt = new Date(value.createdAt).toISOString()
  value.updatedAt = new Date(value.updatedAt).toISOString()
  return value
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
  const states: StoredValue[] = snapshots.map((s) => fromState(s.state as Record<string, unknown>))
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
      at: last.supersededAt.toISOString(),
      actor: last.supersededBy,
      before: toValueResource(states[states.length - 1]!),
      after: null
    })
  }
  return entries
}
