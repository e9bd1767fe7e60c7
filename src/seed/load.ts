import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Static, TSchema } from 'typebox'
import type { Logger } from 'pino'
import type { Db } from '../db/client.ts'
import { writeTransaction } from '../db/transaction.ts'
import { ApiError } from '../errors/catalogue.ts'
import type { WriteContext } from '../lib/write-context.ts'
import { createIndicatorsService } from '../modules/indicators/indicators.service.ts'
import { IndicatorCreate } from '../modules/indicators/indicators.schemas.ts'
import { PlanCreate, TargetTable } from '../modules/plans/plans.schemas.ts'
import { createPlansService } from '../modules/plans/plans.service.ts'
import { replaceTargets } from '../modules/plans/targets.service.ts'
import { upsertRegions } from '../modules/regions/regions.bulk.ts'
import type { RegionInput } from '../modules/regions/regions.repository.ts'
import { checkAll } from '../modules/values/values.check.ts'
import { sortedByKey } from '../modules/values/values.model.ts'
import { createValueWriter } from '../modules/values/values.writer.ts'
import { createValidators } from '../lib/validators.ts'
import { fromRoot } from '../paths.ts'
import { nationalDivisions, townships } from './divisions.ts'

export const seedFolder = pathToFileURL(fromRoot('seed') + path.sep)

export interface SeedSummary {
  regions: { created: number, updated: number, unchanged: number }
  indicators: number
  plans: number
  targets: { created: number, updated: number, unchanged: number, deleted: number }
  actuals: { created: number, updated: number, unchanged: number }
}

interface PlanValues { planId: string, targets: unknown[], actuals: Array<Record<string, unknown>> }

const readJson = async <T>(name: string): Promise<T> => JSON.parse(await readFile(new URL(name, seedFolder), 'utf8')) as T

/** A seed record that fails the API's own validation is a defect of the seed files. */
class SeedError extends Error {}

function validator (schema: TSchema, what: string) {
  const validate = createValidators().body.compile(schema)
  return <T>(record: unknown, label: string): T => {
    if (!validate(record)) {
      const details = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`).join('; ')
      throw new SeedError(`seed ${what} ${label} is not valid: ${details}`)
    }
    return record as T
  }
}

function explain (err: unknown, label: string): never {
  if (err instanceof ApiError) {
    const details = (err.errors ?? []).map((e) => `${e.row !== undefined ? `row ${e.row} ` : ''}${e.field ?? ''} ${e.message}`).join('; ')
    throw new SeedError(`seed ${label} was refused (${err.code}): ${err.message} ${details}`)
  }
  throw err
}

/** Townships of every county (or prefecture without counties) that a seed document names. */
function namedCounties (plans: Array<{ regionCode: string }>, values: PlanValues[]): string[] {
  const codes = new Set<string>([
    ...plans.map((p) => p.regionCode),
    ...values.flatMap((v) => [...v.targets as Array<{ regionCode: string }>, ...v.actuals as Array<{ regionCode: string }>].map((x) => x.regionCode))
  ])
  const counties = new Set<string>()
  for (const code of codes) {
    if (code.length === 9) counties.add(code.slice(0, 6))
    else if (!code.endsWith('00')) counties.add(code)
  }
  return [...counties].sort()
}

// Writes made by the loader are attributed to 'seed' in history and the changes feed.
const seedWriter: WriteContext = { actor: 'seed' }

/**
 * Loads the seed dataset through the same checks as the API's writes: every record is
 * validated against the route's body schema (strict, as for HTTP bodies) and written by
 * the same services and the same value writer. Idempotent: loading twice changes nothing the second time.
 */
export async function loadSeed (db: Db, log: Logger): Promise<SeedSummary> {
  const indicators = await readJson<unknown[]>('indicators.json')
  const plans = await readJson<Array<{ id: string, regionCode: string, parentPlanId: string | null }>>('plans.json')
  const valueFiles = (await readdir(new URL('values/', seedFolder))).filter((f) => f.endsWith('.json')).sort()
  const values = await Promise.all(valueFiles.map((f) => readJson<PlanValues>(`values/${f}`)))

  const counties = namedCounties(plans, values)
  const regionList: RegionInput[] = [...nationalDivisions(), ...counties.flatMap((c) => townships(c))]
  log.info({ regions: regionList.length, townshipsOf: counties }, 'seed: loading regions')
  const regions = await upsertRegions(db, regionList, seedWriter.actor).catch((e: unknown) => explain(e, 'regions'))

  log.info({ indicators: indicators.length }, 'seed: loading indicators')
  const checkIndicator = validator(IndicatorCreate, 'indicator')
  // One transaction for the whole catalogue (each indicator's write becomes a savepoint):
  // the same service and checks, without a commit per indicator, which a first start would wait for.
  await writeTransaction(db, seedWriter.actor, async (tx) => {
    const indicatorService = createIndicatorsService(tx)
    for (const [i, record] of indicators.entries()) {
      const body = checkIndicator<Static<typeof IndicatorCreate>>(record, `#${i + 1}`)
      const { code, ...rest } = body
      await indicatorService.put(seedWriter, code, rest).catch((e: unknown) => explain(e, `indicator ${code}`))
    }
  })

  log.info({ plans: plans.length }, 'seed: loading plans')
  const checkPlan = validator(PlanCreate, 'plan')
  const planService = createPlansService(db)
  const ordered = [...plans].sort((a, b) => Number(a.parentPlanId !== null) - Number(b.parentPlanId !== null))
  for (const record of ordered) {
    const { id, ...rest } = checkPlan<Static<typeof PlanCreate>>(record, record.id)
    await planService.put(seedWriter, id, rest).catch((e: unknown) => explain(e, `plan ${id}`))
  }

  const targets = { created: 0, updated: 0, unchanged: 0, deleted: 0 }
  const actuals = { created: 0, updated: 0, unchanged: 0 }
  const checkTargets = validator(TargetTable, 'target table')
  for (const file of values) {
    log.info({ plan: file.planId, targets: file.targets.length, actuals: file.actuals.length }, 'seed: loading values')
    const table = checkTargets<Static<typeof TargetTable>>({ targets: file.targets }, file.planId)
    const result = await replaceTargets(db, seedWriter, file.planId, table).catch((e: unknown) => explain(e, `targets of ${file.planId}`))
    targets.created += result.created
    targets.updated += result.updated
    targets.unchanged += result.unchanged
    targets.deleted += result.deleted

    const outcome = await writeTransaction(db, seedWriter.actor, async (tx) => {
      const rows = await checkAll(tx, file.actuals.map((a) => ({ kind: 'actual', ...a })), (i) => `/actuals/${i}`, true)
      return createValueWriter(tx).upsert(sortedByKey(rows))
    }).catch((e: unknown) => explain(e, `actuals of ${file.planId}`))
    actuals.created += outcome.created
    actuals.updated += outcome.updated
    actuals.unchanged += outcome.unchanged
  }
  return { regions, indicators: indicators.length, plans: plans.length, targets, actuals }
}

/** Townships of a province, prefecture or county (by code prefix), for the import command. */
export async function loadTownships (db: Db, prefix: string) {
  const list = townships(prefix)
  if (list.length === 0) throw new SeedError(`no township code starts with ${prefix}`)
  return upsertRegions(db, list, seedWriter.actor)
}

export { SeedError }
