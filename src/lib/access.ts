import type { Db } from '../db/client.ts'
import { existingRegions, regionsWithin } from '../db/region-tree.ts'
import { ApiError } from '../errors/catalogue.ts'
import type { WriteContext } from './write-context.ts'

/**
 * An editor token writes only its own region and the regions below it (an admin's write
 * context has no scope). Codes that do not exist are left to the write's own validation
 * (422); existing regions outside the scope refuse the whole write (403), so a bulk import
 * with one foreign row writes nothing.
 */
export async function assertWritable (db: Db, ctx: WriteContext, regionCodes: Array<string | null | undefined>): Promise<void> {
  if (ctx.scope == null) return
  const codes = [...new Set(regionCodes.filter((c): c is string => typeof c === 'string'))]
  if (codes.length === 0) return
  const [existing, inside] = [await existingRegions(db, codes), await regionsWithin(db, ctx.scope, codes)]
  const outside = codes.filter((c) => existing.has(c) && !inside.has(c))
  if (outside.length > 0) {
    throw new ApiError('OUTSIDE_SCOPE', `This token may write region ${ctx.scope} and the regions below it, not ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}; nothing was written.`)
  }
}
