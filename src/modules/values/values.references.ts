import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { indicators, plans } from '../../db/schema.ts'
import { ApiError, type FieldError } from '../../lib/errors.ts'
import type { IndicatorRow } from '../indicators/indicators.repository.ts'
import { createRegionsRepository } from '../regions/regions.repository.ts'
import { toValueData, type ValueData, type ValueInput } from './values.rules.ts'

type PlanRow = typeof plans.$inferSelect

export interface CheckedRows {
  /** The row to store for each input, or undefined where the input has errors. */
  rows: Array<ValueData | undefined>
  errors: FieldError[]
  /** The catalogue code of the first problem (what a single-value write answers). */
  code?: ApiError['code']
}

/**
 * Checks a batch of values against what they refer to, with one query per kind of
 * reference however many values there are: indicators exist (and bound the value),
 * regions exist, and a target lies inside its plan's region and years. Errors carry the
 * input's JSON pointer and, with `rowNumbers`, its 1-based row.
 */
export async function checkValueRows (db: Db, inputs: ValueInput[], pointer: (i: number) => string, rowNumbers: boolean): Promise<CheckedRows> {
  const indicatorCodes = [...new Set(inputs.map((i) => i.indicatorCode))]
  const planIds = [...new Set(inputs.flatMap((i) => (i.planId != null ? [i.planId] : [])))]
  const regionCodes = [...new Set(inputs.map((i) => i.regionCode))]
  const regionsRepo = createRegionsRepository(db)

  // One after another: inside a transaction `db` is a single connection, and pg deprecates
  // (pg@9 refuses) a query sent while another is still running on the same client.
  // Codes are bound as one array parameter: a batch may name tens of thousands of regions.
  const indicatorRows = indicatorCodes.length > 0 ? await db.select().from(indicators).where(sql`${indicators.code} = any(${sql.param(indicatorCodes)}::text[])`) : []
  const planRows = planIds.length > 0 ? await db.select().from(plans).where(sql`${plans.id} = any(${sql.param(planIds)}::text[])`) : []
  const existingRegions = await regionsRepo.existing(regionCodes)
  const indicatorMap = new Map<string, IndicatorRow>(indicatorRows.map((r) => [r.code, r]))
  const planMap = new Map<string, PlanRow>(planRows.map((r) => [r.id, r]))
  const insidePlan = new Map<string, Set<string>>()
  for (const plan of planRows) {
    const codes = [...new Set(inputs.filter((i) => i.planId === plan.id).map((i) => i.regionCode))]
    insidePlan.set(plan.id, await regionsRepo.within(plan.regionCode, codes))
  }

  const errors: FieldError[] = []
  let code: ApiError['code'] | undefined
  const rows: Array<ValueData | undefined> = inputs.map((input, i) => {
    const prefix = pointer(i)
    const row = rowNumbers ? { row: i + 1 } : {}
    let failed = false
    const fail = (c: ApiError['code'], e: FieldError[]) => {
      code ??= c
      failed = true
      errors.push(...e.map((x) => ({ ...row, ...x })))
    }
    if (!existingRegions.has(input.regionCode)) {
      fail('REFERENCE_NOT_FOUND', [{ field: `${prefix}/regionCode`, code: 'not-found', message: `no region has code ${input.regionCode}` }])
    }
    if (input.kind === 'target' && input.planId != null) {
      const plan = planMap.get(input.planId)
      if (plan === undefined) {
        fail('REFERENCE_NOT_FOUND', [{ field: `${prefix}/planId`, code: 'not-found', message: `no plan has id ${input.planId}` }])
      } else {
        if (existingRegions.has(input.regionCode) && insidePlan.get(plan.id)?.has(input.regionCode) !== true) {
          fail('TARGET_OUTSIDE_PLAN', [{ field: `${prefix}/regionCode`, code: 'outside-plan', message: `${input.regionCode} is not ${plan.regionCode} or a region below it` }])
        }
        const fromYear = input.fromYear ?? input.year
        if (fromYear < plan.startYear || input.year > plan.endYear) {
          fail('TARGET_OUTSIDE_PLAN', [{ field: `${prefix}/year`, code: 'outside-plan', message: `period ${fromYear}-${input.year} is not within the plan's years ${plan.startYear}-${plan.endYear}` }])
        }
      }
    }
    try {
      const data = toValueData(input, indicatorMap.get(input.indicatorCode), prefix)
      return failed ? undefined : data
    } catch (e) {
      if (!(e instanceof ApiError)) throw e
      fail(e.code, e.errors ?? [])
      return undefined
    }
  })
  return { rows, errors, code }
}

/** As checkValueRows, but all or nothing: one problem lists every value's errors. */
export async function checkValues (db: Db, inputs: ValueInput[], pointer: (i: number) => string, rowNumbers: boolean): Promise<ValueData[]> {
  const { rows, errors, code } = await checkValueRows(db, inputs, pointer, rowNumbers)
  if (errors.length > 0) {
    const only = errors.length === 1 ? errors[0]! : undefined
    throw new ApiError(code!, only !== undefined ? `${only.field ?? ''}: ${only.message}.` : `${errors.length} problems; see errors.`, { errors })
  }
  return rows as ValueData[]
}
