import { sql } from 'drizzle-orm'
import type { Db } from '../db/client.ts'
import { existingRegions, regionsWithin } from '../db/region-tree.ts'
import { plans } from '../db/schema.ts'
import { ApiError, type FieldError } from '../errors/catalogue.ts'
import type { WriteContext } from './write-context.ts'

/**
 * An editor token writes only its own region and the regions below it (an admin's write
 * context has no scope). Codes that do not exist are left to the write's own validation
 * (422); existing regions outside the scope refuse the whole write (403), so a bulk import
 * with one foreign row writes nothing.
 */

/** Which of `codes` exist and lie outside the context's scope (none without a scope). */
async function outsideScope (db: Db, ctx: WriteContext, codes: readonly string[]): Promise<Set<string>> {
  if (ctx.scope == null || codes.length === 0) return new Set()
  const [existing, inside] = [await existingRegions(db, codes), await regionsWithin(db, ctx.scope, codes)]
  return new Set(codes.filter((c) => existing.has(c) && !inside.has(c)))
}

const listed = (codes: string[]) => `${codes.slice(0, 5).join(', ')}${codes.length > 5 ? ` and ${codes.length - 5} more` : ''}`

export async function assertWritable (db: Db, ctx: WriteContext, regionCodes: Array<string | null | undefined>): Promise<void> {
  const codes = [...new Set(regionCodes.filter((c): c is string => typeof c === 'string'))]
  const outside = await outsideScope(db, ctx, codes)
  if (outside.size > 0) throw new ApiError('OUTSIDE_SCOPE', `This token may write region ${ctx.scope} and the regions below it, not ${listed([...outside])}; nothing was written.`)
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/**
 * Values (as sent, or stored) may be written only when the token may write each one's
 * region and, for a target, its plan's region: a target belongs to its plan, so a county's
 * token cannot change its prefecture's plan through any path. The refusal lists every
 * value outside the scope by its position (`row`, 1-based, with `rowNumbers`).
 */
export async function assertValuesWritable (db: Db, ctx: WriteContext, values: readonly unknown[], rowNumbers = false, maxErrors = 1000): Promise<void> {
  if (ctx.scope == null) return
  const fields = values.map((v) => (typeof v === 'object' && v !== null ? v as Record<string, unknown> : {}))
  const planOf = (f: Record<string, unknown>) => (f.kind === 'target' ? text(f.planId) : undefined)
  const planIds = [...new Set(fields.map(planOf).filter((p) => p !== undefined))]
  const planRegion = new Map((planIds.length > 0
    ? await db.select({ id: plans.id, regionCode: plans.regionCode }).from(plans).where(sql`${plans.id} = any(${sql.param(planIds)}::text[])`)
    : []).map((p) => [p.id, p.regionCode]))
  const needs = fields.map((f) => ({ region: text(f.regionCode), planRegion: planRegion.get(planOf(f) ?? '') }))
  const outside = await outsideScope(db, ctx, [...new Set(needs.flatMap((n) => [n.region, n.planRegion].filter((c) => c !== undefined)))])
  if (outside.size === 0) return

  const prefix = rowNumbers ? '' : '/body'
  const errors: FieldError[] = []
  needs.forEach(({ region, planRegion }, i) => {
    if (errors.length >= maxErrors) return
    const row = rowNumbers ? { row: i + 1 } : {}
    if (region !== undefined && outside.has(region)) {
      errors.push({ ...row, field: `${prefix}/regionCode`, code: 'outside-scope', message: `region ${region} lies outside this token's region ${ctx.scope}` })
    } else if (planRegion !== undefined && outside.has(planRegion)) {
      errors.push({ ...row, field: `${prefix}/planId`, code: 'outside-scope', message: `the target belongs to a plan of region ${planRegion}, outside this token's region ${ctx.scope}` })
    }
  })
  const rows = rowNumbers ? ` (rows ${errors.slice(0, 10).map((e) => e.row).join(', ')}${errors.length > 10 ? ', ...' : ''})` : ''
  throw new ApiError('OUTSIDE_SCOPE', `This token may write region ${ctx.scope} and the regions below it, not ${listed([...outside])}${rows}; nothing was written.`, { errors })
}
