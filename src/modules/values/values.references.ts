import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { indicators, plans } from '../../db/schema.ts'
import { ApiError, type FieldError } from '../../lib/errors.ts'
import type { IndicatorRow } from '../indicators/indicators.repository.ts'
import { createRegionsRepository } from '../regions/regions.repository.ts'
import { toValueData, type ValueData, type ValueInput } from './values.rules.ts'

type PlanRow = typeof plans.$inferSelect

/** What a batch of values refers to: its indicators, plans and regions, looked up once. */
export interface References {
  indicators: Map<string, IndicatorRow>
  plans: Map<string, PlanRow>
  /** The region codes named by the batch that exist. */
  regions: Set<string>
  /** For each plan named, the batch's regions that are its region or lie below it. */
  insidePlan: Map<string, Set<string>>
}

/** The failure of one value: the catalogue code of its first problem and every problem. */
export interface RowProblems { code: ApiError['code'], errors: FieldError[] }

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * Looks up what a batch of values refers to, with one query per kind of reference however
 * many values there are. Takes the rows as sent, before any validation (a bulk import checks
 * each row later, as it writes): only codes that are strings are looked up.
 */
export async function loadReferences (db: Db, rows: readonly unknown[]): Promise<References> {
  const indicatorCodes = new Set<string>()
  const regionCodes = new Set<string>()
  const regionsByPlan = new Map<string, Set<string>>()
  for (const row of rows) {
    if (typeof row !== 'object' || row === null) continue
    const { indicatorCode, regionCode, planId } = row as Record<string, unknown>
    const indicator = text(indicatorCode)
    const region = text(regionCode)
    const plan = text(planId)
    if (indicator !== undefined) indicatorCodes.add(indicator)
    if (region !== undefined) regionCodes.add(region)
    if (plan !== undefined) {
      const codes = regionsByPlan.get(plan) ?? new Set<string>()
      if (region !== undefined) codes.add(region)
      regionsByPlan.set(plan, codes)
    }
  }
  const regionsRepo = createRegionsRepository(db)

  // One after another: inside a transaction `db` is a single connection, and pg deprecates
  // (pg@9 refuses) a query sent while another is still running on the same client.
  // Codes are bound as one array parameter: a batch may name tens of thousands of regions.
  const indicatorRows = indicatorCodes.size > 0 ? await db.select().from(indicators).where(sql`${indicators.code} = any(${sql.param([...indicatorCodes])}::text[])`) : []
  const planRows = regionsByPlan.size > 0 ? await db.select().from(plans).where(sql`${plans.id} = any(${sql.param([...regionsByPlan.keys()])}::text[])`) : []
  const existingRegions = await regionsRepo.existing([...regionCodes])
  const insidePlan = new Map<string, Set<string>>()
  for (const plan of planRows) {
    insidePlan.set(plan.id, await regionsRepo.within(plan.regionCode, [...regionsByPlan.get(plan.id)!]))
  }
  return {
    indicators: new Map(indicatorRows.map((r) => [r.code, r])),
    plans: new Map(planRows.map((r) => [r.id, r])),
    regions: existingRegions,
    insidePlan
  }
}

/**
 * Checks one schema-valid value against what it refers to (its region exists, a target lies
 * inside its plan's region and years) and the design's rules (toValueData: the indicator
 * exists and bounds the value, kind rules), and turns it into the row to store. `prefix` is
 * the value's JSON pointer in the request.
 */
export function checkValueRow (refs: References, input: ValueInput, prefix: string): ValueData | RowProblems {
  const errors: FieldError[] = []
  let code: ApiError['code'] | undefined
  const fail = (c: ApiError['code'], e: FieldError[]) => {
    code ??= c
    errors.push(...e)
  }
  const regionExists = refs.regions.has(input.regionCode)
  if (!regionExists) {
    fail('REFERENCE_NOT_FOUND', [{ field: `${prefix}/regionCode`, code: 'not-found', message: `no region has code ${input.regionCode}` }])
  }
  if (input.kind === 'target' && input.planId != null) {
    const plan = refs.plans.get(input.planId)
    if (plan === undefined) {
      fail('REFERENCE_NOT_FOUND', [{ field: `${prefix}/planId`, code: 'not-found', message: `no plan has id ${input.planId}` }])
    } else {
      if (regionExists && refs.insidePlan.get(plan.id)?.has(input.regionCode) !== true) {
        fail('TARGET_OUTSIDE_PLAN', [{ field: `${prefix}/regionCode`, code: 'outside-plan', message: `${input.regionCode} is not ${plan.regionCode} or a region below it` }])
      }
      const fromYear = input.fromYear ?? input.year
      if (fromYear < plan.startYear || input.year > plan.endYear) {
        fail('TARGET_OUTSIDE_PLAN', [{ field: `${prefix}/year`, code: 'outside-plan', message: `period ${fromYear}-${input.year} is not within the plan's years ${plan.startYear}-${plan.endYear}` }])
      }
    }
  }
  try {
    const data = toValueData(input, refs.indicators.get(input.indicatorCode), prefix)
    return code === undefined ? data : { code, errors }
  } catch (e) {
    if (!(e instanceof ApiError)) throw e
    fail(e.code, e.errors ?? [])
    return { code: code!, errors }
  }
}

/** Whether checkValueRow found problems rather than a row to store. */
export function hasProblems (checked: ValueData | RowProblems): checked is RowProblems {
  return 'errors' in checked
}

/**
 * Checks a batch of schema-valid values, all or nothing (loadReferences, then checkValueRow
 * for each): one problem lists every value's errors, with the catalogue code of the first
 * (what a single-value write answers). Errors carry the input's JSON pointer and, with
 * `rowNumbers`, its 1-based row.
 */
export async function checkValues (db: Db, inputs: ValueInput[], pointer: (i: number) => string, rowNumbers: boolean): Promise<ValueData[]> {
  const refs = await loadReferences(db, inputs)
  const rows: ValueData[] = []
  const errors: FieldError[] = []
  let code: ApiError['code'] | undefined
  inputs.forEach((input, i) => {
    const checked = checkValueRow(refs, input, pointer(i))
    if (!hasProblems(checked)) {
      rows.push(checked)
      return
    }
    code ??= checked.code
    errors.push(...checked.errors.map((e) => (rowNumbers ? { row: i + 1, ...e } : e)))
  })
  if (code !== undefined) {
    const only = errors.length === 1 ? errors[0]! : undefined
    throw new ApiError(code, only !== undefined ? `${only.field ?? ''}: ${only.message}.` : `${errors.length} problems; see errors.`, { errors })
  }
  return rows
}
