import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import { ApiError } from '../../lib/errors.ts'
import { sameFields, type WriteContext } from '../../lib/write-context.ts'
import { assertWritable } from '../tokens/scope.ts'
import { checkValues } from './values.references.ts'
import { createValuesRepository } from './values.repository.ts'
import { rowToInput, type ValueInput, type ValueRecord, type ValueRow } from './values.rules.ts'
import type { ValueCreate, ValuePatch } from './values.schemas.ts'

export function valueNotFound (id: number): ApiError {
  return new ApiError('VALUE_NOT_FOUND', `No yearly value has id ${id}.`)
}

export function createValuesService (db: Db) {
  return {
    /** POST: one new value; 409 `VALUE_EXISTS` when its natural key is taken. */
    async create (ctx: WriteContext, body: ValueCreate): Promise<ValueRow> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        await assertWritable(tx, ctx, [body.regionCode])
        const [data] = await checkValues(tx, [body as ValueInput], () => '/body', false)
        return createValuesRepository(tx).insert(data!)
      })
    },

    /** PATCH: merges the patch into the stored value and checks the result like a new one. */
    async patch (ctx: WriteContext, id: number, patch: ValuePatch): Promise<ValueRecord> {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createValuesRepository(tx)
        const existing = await repo.get(id, true)
        if (existing === undefined) throw valueNotFound(id)
        assertIfMatch(ctx, existing.revision)
        await assertWritable(tx, ctx, [existing.regionCode, patch.regionCode])
        const current = rowToInput(existing)
        const merged = { ...current } as Record<string, unknown>
        for (const [k, val] of Object.entries(patch)) merged[k] = val
        // A period given only by `year` keeps its length unless fromYear is sent too.
        if (patch.year !== undefined && patch.fromYear === undefined && existing.fromYear === existing.year) merged.fromYear = patch.year
        const [data] = await checkValues(tx, [merged as ValueInput], () => '/body', false)
        if (sameFields(existing, data!)) return existing
        return repo.update(id, data!)
      })
    },

    async remove (ctx: WriteContext, id: number): Promise<void> {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createValuesRepository(tx)
        const existing = await repo.get(id, true)
        if (existing === undefined) throw valueNotFound(id)
        assertIfMatch(ctx, existing.revision)
        await assertWritable(tx, ctx, [existing.regionCode])
        await repo.delete(id)
      })
    }
  }
}
