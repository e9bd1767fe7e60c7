import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { ApiError, type FieldError } from '../../lib/errors.ts'
import { assertWritable } from '../tokens/scope.ts'
import { checkValues } from '../values/values.references.ts'
import { createValuesRepository } from '../values/values.repository.ts'
import { naturalKey, type ValueData, type ValueInput, type ValueRow } from '../values/values.rules.ts'
import { createPlansRepository } from './plans.repository.ts'
import type { TargetTable } from './plans.schemas.ts'
import { planNotFound } from './plans.service.ts'

const compared = [
  'value', 'comparator', 'binding', 'baselineYear', 'baselineValue', 'qualitative', 'numerator', 'denominator', 'source', 'note'
] as const

function sameContent (row: ValueRow, data: ValueData): boolean {
  return compared.every((f) => (row[f] ?? null) === (data[f] ?? null))
}

/**
 * Replaces a plan's whole target table in one transaction. Rows are matched to stored
 * targets by natural key, so an unchanged row keeps its id and revision, a changed one
 * is updated in place (revision + 1), a new one inserted and a missing one deleted.
 */
export async function replaceTargets (db: Db, ctx: WriteContext, planId: string, table: TargetTable) {
  return writeTransaction(db, ctx.actor, async (tx) => {
    const plans = createPlansRepository(tx)
    const values = createValuesRepository(tx)
    // Locking the plan row serialises concurrent replacements of the same table.
    const plan = await plans.get(planId, true)
    if (plan === undefined) throw planNotFound(planId)
    await assertWritable(tx, ctx, [plan.regionCode, ...table.targets.map((t) => t.regionCode)])

    const inputs: ValueInput[] = table.targets.map((t) => ({ ...t, kind: 'target', planId }))
    const rows = await checkValues(tx, inputs, (i) => `/body/targets/${i}`, true)

    const seen = new Map<string, number>()
    const duplicates: FieldError[] = []
    rows.forEach((r, i) => {
      const key = naturalKey(r)
      const first = seen.get(key)
      if (first !== undefined) {
        duplicates.push({ row: i + 1, field: `/body/targets/${i}`, code: 'duplicate-key', message: `same region, indicator, period and breakdown as row ${first + 1}` })
      } else {
        seen.set(key, i)
      }
    })
    if (duplicates.length > 0) {
      throw new ApiError('DUPLICATE_KEY_IN_REQUEST', `${duplicates.length} row(s) repeat the key of an earlier row.`, { errors: duplicates })
    }

    const existing = new Map((await values.allOfPlan(planId, true)).map((r) => [naturalKey(r), r]))
    let created = 0
    let updated = 0
    let unchanged = 0
    const inserts: ValueData[] = []
    for (const data of rows) {
      const key = naturalKey(data)
      const current = existing.get(key)
      existing.delete(key)
      if (current === undefined) {
        inserts.push(data)
        created++
      } else if (sameContent(current, data)) {
        unchanged++
      } else {
        await values.update(current.id, data)
        updated++
      }
    }
    const stale = [...existing.values()].map((r) => r.id)
    await values.deleteMany(stale)
    await values.insertMany(inserts)
    const items = (await values.allOfPlan(planId)).sort((a, b) => a.year - b.year || a.id - b.id)
    return { created, updated, unchanged, deleted: stale.length, items }
  })
}
