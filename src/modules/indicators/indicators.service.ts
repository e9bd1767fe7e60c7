import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import { compareDecimal, toDecimalOrNull } from '../../lib/decimal.ts'
import { ApiError, notFound } from '../../errors/catalogue.ts'
import { sameFields, type WriteContext } from '../../lib/write-context.ts'
import { createIndicatorsRepository, type IndicatorInput, type IndicatorRow } from './indicators.repository.ts'
import type { IndicatorPatch, IndicatorReplace } from './indicators.schemas.ts'

/** Body fields to a row, with decimals normalised; omitted optional fields become null. */
export function indicatorInput (code: string, body: IndicatorReplace): IndicatorInput {
  const input: IndicatorInput = {
    code,
    name: body.name,
    nameEn: body.nameEn ?? null,
    domain: body.domain,
    unit: body.unit,
    aggregation: body.aggregation,
    direction: body.direction,
    // Omitted: a percentage is a rate; anything else a level, never summed over years.
    nature: body.nature ?? (body.unit === 'percent' ? 'rate' : 'stock'),
    min: toDecimalOrNull(body.min, '/body/min'),
    max: toDecimalOrNull(body.max, '/body/max'),
    definition: body.definition ?? null,
    numeratorLabel: body.numeratorLabel ?? null,
    denominatorLabel: body.denominatorLabel ?? null
  }
  if (input.min != null && input.max != null && compareDecimal(input.min, input.max) > 0) {
    throw new ApiError('UNPROCESSABLE', 'min must not exceed max.', {
      errors: [{ field: '/body/min', code: 'min-above-max', message: `min ${input.min} exceeds max ${input.max}` }]
    })
  }
  return input
}

export function createIndicatorsService (db: Db) {
  async function write (ctx: WriteContext, code: string, next: (existing: IndicatorRow | undefined) => IndicatorInput, mustExist: boolean) {
    return writeTransaction(db, ctx.actor, async (tx) => {
      const repo = createIndicatorsRepository(tx)
      const existing = await repo.get(code, true)
      if (existing === undefined && mustExist) throw notFound.indicator(code)
      assertIfMatch(ctx, existing?.revision)
      const input = next(existing)
      if (existing === undefined) return { row: await repo.insert(input), created: true }
      const { code: _same, ...fields } = input
      if (sameFields(existing, fields)) return { row: existing, created: false }
      // Narrowing the range must not strand values already registered.
      const outside = await repo.countOutside(code, input.min ?? null, input.max ?? null)
      if (outside > 0) {
        throw new ApiError('INDICATOR_RANGE_CONFLICT', `${outside} registered value(s) of ${code} lie outside [${input.min ?? '-∞'}, ${input.max ?? '∞'}]; correct them first.`)
      }
      const { code: _code, ...rest } = input
      return { row: await repo.update(code, rest), created: false }
    })
  }

  return {
    async create (ctx: WriteContext, input: IndicatorInput) {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createIndicatorsRepository(tx)
        if (await repo.get(input.code) !== undefined) throw new ApiError('INDICATOR_EXISTS', `Indicator ${input.code} already exists; use PUT to replace it.`)
        return repo.insert(input)
      })
    },
    put: (ctx: WriteContext, code: string, body: IndicatorReplace) => write(ctx, code, () => indicatorInput(code, body), false),
    patch: async (ctx: WriteContext, code: string, patch: IndicatorPatch) => (await write(ctx, code, (existing) => {
      const e = existing!
      const merged = { ...e, ...patch } as IndicatorReplace
      return indicatorInput(code, merged)
    }, true)).row,
    async remove (ctx: WriteContext, code: string) {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createIndicatorsRepository(tx)
        const existing = await repo.get(code, true)
        if (existing === undefined) throw notFound.indicator(code)
        assertIfMatch(ctx, existing.revision)
        if (await repo.hasValues(code)) throw new ApiError('INDICATOR_IN_USE', `Indicator ${code} still has yearly values; delete them first.`)
        await repo.delete(code)
      })
    }
  }
}
