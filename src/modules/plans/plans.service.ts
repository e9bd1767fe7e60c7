import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { assertIfMatch } from '../../lib/conditional.ts'
import { ApiError, type FieldError, notFound } from '../../errors/catalogue.ts'
import { sameFields, type WriteContext } from '../../lib/write-context.ts'
import { existingRegions } from '../../db/region-tree.ts'
import { assertWritable } from '../../lib/access.ts'
import { createPlansRepository, type PlanInput, type PlanRow } from './plans.repository.ts'
import type { PlanPatch, PlanReplace } from './plans.schemas.ts'

export function planInput (id: string, body: PlanReplace): PlanInput {
  return {
    id,
    title: body.title,
    titleEn: body.titleEn ?? null,
    kind: body.kind,
    regionCode: body.regionCode,
    issuer: body.issuer ?? null,
    documentNumber: body.documentNumber ?? null,
    startYear: body.startYear,
    endYear: body.endYear,
    baselineYear: body.baselineYear ?? null,
    issuedOn: body.issuedOn ?? null,
    publishedOn: body.publishedOn ?? null,
    sourceUrl: body.sourceUrl ?? null,
    status: body.status ?? 'in-force',
    parentPlanId: body.parentPlanId ?? null
  }
}

export function createPlansService (db: Db) {
  async function checkRules (tx: Db, input: PlanInput, existing: PlanRow | undefined) {
    const repo = createPlansRepository(tx)
    const errors: FieldError[] = []
    if (input.endYear < input.startYear) errors.push({ field: '/body/endYear', code: 'before-start', message: `endYear ${input.endYear} is before startYear ${input.startYear}` })
    if (input.baselineYear != null && input.baselineYear > input.startYear) {
      errors.push({ field: '/body/baselineYear', code: 'after-start', message: `baselineYear ${input.baselineYear} is after startYear ${input.startYear}` })
    }
    if (errors.length > 0) throw new ApiError('UNPROCESSABLE', errors[0]!.message, { errors })

    if (!(await existingRegions(tx, [input.regionCode])).has(input.regionCode)) {
      throw new ApiError('REFERENCE_NOT_FOUND', `No region has code ${input.regionCode}.`, {
        errors: [{ field: '/body/regionCode', code: 'not-found', message: `no region has code ${input.regionCode}` }]
      })
    }
    if (input.parentPlanId != null) {
      const fail = (message: string): never => {
        throw new ApiError('INVALID_PLAN_PARENT', message, { errors: [{ field: '/body/parentPlanId', code: 'invalid-parent', message }] })
      }
      if (input.parentPlanId === input.id) fail('A plan cannot implement itself.')
      const chain = await repo.ancestry(input.parentPlanId)
      if (chain.length === 0) {
        throw new ApiError('REFERENCE_NOT_FOUND', `No plan has id ${input.parentPlanId}.`, {
          errors: [{ field: '/body/parentPlanId', code: 'not-found', message: `no plan has id ${input.parentPlanId}` }]
        })
      }
      if (chain.includes(input.id)) fail(`${input.parentPlanId} already implements ${input.id} (directly or indirectly): that would be a cycle.`)
    }
    if (input.documentNumber != null && await repo.byDocumentNumber(input.documentNumber, input.id) !== undefined) {
      throw new ApiError('DOCUMENT_NUMBER_TAKEN', `Another plan already has document number ${input.documentNumber}.`)
    }
    if (existing !== undefined) {
      const outside = await repo.targetsOutside(input.id, input.regionCode, input.startYear, input.endYear)
      if (outside > 0) {
        throw new ApiError('TARGET_OUTSIDE_PLAN', `${outside} target(s) of this plan would fall outside its new region or years; change the target table first.`)
      }
    }
  }

  async function write (ctx: WriteContext, id: string, next: (existing: PlanRow | undefined) => PlanInput, mustExist: boolean) {
    return writeTransaction(db, ctx.actor, async (tx) => {
      const repo = createPlansRepository(tx)
      const existing = await repo.get(id, true)
      if (existing === undefined && mustExist) throw notFound.plan(id)
      assertIfMatch(ctx, existing?.revision)
      const input = next(existing)
      await assertWritable(tx, ctx, [input.regionCode, existing?.regionCode])
      if (existing !== undefined && sameFields(existing, input)) return { row: existing, created: false }
      await checkRules(tx, input, existing)
      if (existing === undefined) return { row: await repo.insert(input), created: true }
      const { id: _id, ...rest } = input
      return { row: await repo.update(id, rest), created: false }
    })
  }

  return {
    async create (ctx: WriteContext, input: PlanInput) {
      return writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createPlansRepository(tx)
        await assertWritable(tx, ctx, [input.regionCode])
        if (await repo.get(input.id) !== undefined) throw new ApiError('PLAN_EXISTS', `Plan ${input.id} already exists; use PUT to replace it.`)
        await checkRules(tx, input, undefined)
        return repo.insert(input)
      })
    },
    put: (ctx: WriteContext, id: string, body: PlanReplace) => write(ctx, id, () => planInput(id, body), false),
    patch: async (ctx: WriteContext, id: string, patch: PlanPatch) =>
      (await write(ctx, id, (existing) => planInput(id, { ...existing!, ...patch } as PlanReplace), true)).row,
    async remove (ctx: WriteContext, id: string) {
      await writeTransaction(db, ctx.actor, async (tx) => {
        const repo = createPlansRepository(tx)
        const existing = await repo.get(id, true)
        if (existing === undefined) throw notFound.plan(id)
        assertIfMatch(ctx, existing.revision)
        await assertWritable(tx, ctx, [existing.regionCode])
        const children = await repo.childCount(id)
        if (children > 0) throw new ApiError('PLAN_IN_USE', `${children} plan(s) implement ${id} (parentPlanId); change or delete them first.`)
        await repo.delete(id)
      })
    }
  }
}
