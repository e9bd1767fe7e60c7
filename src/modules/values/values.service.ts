import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { ApiError, notFound, valueExists } from '../../errors/catalogue.ts'
import { assertValuesWritable } from '../../lib/access.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { checkAll } from './values.check.ts'
import { naturalKey, toInput, type StoredValue } from './values.model.ts'
import { createValuesRepository } from './values.repository.ts'
import type { ValueCreate, ValuePatch } from './values.schemas.ts'
import { createValueWriter } from './values.writer.ts'

export function createValuesService (db: Db) {
  return {
    /** POST: one new value; 409 `VALUE_EXISTS` when its natural key is taken. */
    async create (ctx: WriteContext, body: ValueCreate): Promise<StoredValue> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        await assertValuesWritable(tx, ctx, [body])
        const [fields] = await checkAll(tx, [body], () => '/body')
        const written = await createValueWriter(tx).insert(fields!)
        if ('existingId' in written) throw valueExists(written.existingId)
        return written.created
      })
    },

    /** PATCH: merges the patch into the stored value and checks the result like a new one. */
    async patch (ctx: WriteContext, id: number, { kind, ...patch }: Omit<ValuePatch, 'id' | 'revision' | 'updatedBy' | 'createdAt' | 'updatedAt'>): Promise<StoredValue> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const existing = await createValuesRepository(tx).get(id, true)
        if (existing === undefined) throw notFound.value(id)
        assertIfMatch(ctx, existing.revision)
        if (kind !== undefined && kind !== existing.kind) {
          throw new ApiError('INVALID_VALUE', `A value's kind cannot change: this value is ${existing.kind === 'actual' ? 'an actual' : 'a target'}; delete it and create the other kind.`, {
            errors: [{ field: '/body/kind', code: 'immutable', message: `must be ${existing.kind}` }]
          })
        }
        const merged: Record<string, unknown> = { ...toInput(existing), ...patch }
        await assertValuesWritable(tx, ctx, [existing, merged])
        // A period given only by `year` keeps its length unless fromYear is sent too.
        if (patch.year !== undefined && patch.fromYear === undefined && existing.fromYear === existing.year) merged.fromYear = patch.year
        const [fields] = await checkAll(tx, [merged], () => '/body')
        const writer = createValueWriter(tx)
        const holder = naturalKey(fields!) !== naturalKey(existing) ? await writer.idOfKey(fields!) : undefined
        if (holder !== undefined) throw valueExists(holder)
        return await writer.update(id, fields!) ?? existing
      })
    },

    async remove (ctx: WriteContext, id: number): Promise<void> {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const existing = await createValuesRepository(tx).get(id, true)
        if (existing === undefined) throw notFound.value(id)
        assertIfMatch(ctx, existing.revision)
        await assertValuesWritable(tx, ctx, [existing])
        await createValueWriter(tx).remove([id])
      })
    }
  }
}
