import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { notFound } from '../../errors/catalogue.ts'
import { assertWritable } from '../../lib/access.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { checkAll } from './values.check.ts'
import { toInput, type StoredValue } from './values.model.ts'
import { createValuesRepository } from './values.repository.ts'
import type { ValueCreate, ValuePatch } from './values.schemas.ts'
import { createValueWriter } from './values.writer.ts'

export function createValuesService (db: Db) {
  return {
    /** POST: one new value; 409 `VALUE_EXISTS` when its natural key is taken. */
    async create (ctx: WriteContext, body: ValueCreate): Promise<StoredValue> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        await assertWritable(tx, ctx, [body.regionCode])
        const [fields] = await checkAll(tx, [body], () => '/body')
        return createValueWriter(tx).insert(fields!)
      })
    },

    /** PATCH: merges the patch into the stored value and checks the result like a new one. */
    async patch (ctx: WriteContext, id: number, patch: ValuePatch): Promise<StoredValue> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const existing = await createValuesRepository(tx).get(id, true)
        if (existing === undefined) throw notFound.value(id)
        assertIfMatch(ctx, existing.revision)
        await assertWritable(tx, ctx, [existing.regionCode, patch.regionCode])
        const merged: Record<string, unknown> = { ...toInput(existing), ...patch }
        // A period given only by `year` keeps its length unless fromYear is sent too.
        if (patch.year !== undefined && patch.fromYear === undefined && existing.fromYear === existing.year) merged.fromYear = patch.year
        const [fields] = await checkAll(tx, [merged], () => '/body')
        return await createValueWriter(tx).update(id, fields!) ?? existing
      })
    },

    async remove (ctx: WriteContext, id: number): Promise<void> {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const existing = await createValuesRepository(tx).get(id, true)
        if (existing === undefined) throw notFound.value(id)
        assertIfMatch(ctx, existing.revision)
        await assertWritable(tx, ctx, [existing.regionCode])
        await createValueWriter(tx).remove([id])
      })
    }
  }
}
