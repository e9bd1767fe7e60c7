import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { ApiError, type FieldError, notFound } from '../../errors/catalogue.ts'
import { assertWritable } from '../../lib/access.ts'
import { checkAll } from '../values/values.check.ts'
import { createValuesRepository } from '../values/values.repository.ts'
import { naturalKey, sortedByKey } from '../values/values.model.ts'
import { createValueWriter } from '../values/values.writer.ts'
import { createPlansRepository } from './plans.repository.ts'
import type { TargetTable } from './plans.schemas.ts'

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
    if (plan === undefined) throw notFound.plan(planId)
    await assertWritable(tx, ctx, [plan.regionCode, ...table.targets.map((t) => t.regionCode)])

    const inputs = table.targets.map((t) => ({ ...t, kind: 'target', planId }))
    const rows = await checkAll(tx, inputs, (i) => `/body/targets/${i}`, true)

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

    // Stored targets whose key the table no longer has go; the rest are upserted by key,
    // so an unchanged row keeps its id and revision.
    const stale = (await values.targetsOfPlan(planId, true)).filter((r) => !seen.has(naturalKey(r))).map((r) => r.id)
    const writer = createValueWriter(tx)
    await writer.remove(stale)
    const counts = await writer.upsert(sortedByKey(rows))
    return { ...counts, deleted: stale.length, items: await values.targetsOfPlan(planId) }
  })
}
