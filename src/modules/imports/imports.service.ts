import type { ValidateFunction } from 'ajv'
import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import type { FieldError } from '../../lib/errors.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { createValidators } from '../../lib/validators.ts'
import { assertWritable } from '../tokens/scope.ts'
import { checkValueRow, hasProblems, loadReferences, type References } from '../values/values.references.ts'
import { naturalKeyAsSent, type ValueData, type ValueInput } from '../values/values.rules.ts'
import { ValueCreate } from '../values/values.schemas.ts'
import { createBulkWriter } from '../values/values.upsert.ts'
import { IMPORT_MAX_ERRORS, type ImportSummary } from './imports.schemas.ts'

/**
 * Rows checked before they are handed to the writer. The checks of the next rows (schema,
 * references, rules: the service's CPU) run while the database writes the ones before.
 */
export const IMPORT_SEGMENT_ROWS = 1000

// The same strict validator as the body of POST /v1/values (no coercion, no unknown fields),
// compiled on the first import rather than at every start (issue #7: some 80 ms of a restart).
let validateRow: ValidateFunction | undefined

/** Rolls the write transaction back: a dry run, or an atomic import with rejected rows. */
class Rollback extends Error {}

export interface ImportOptions {
  dryRun: boolean
  mode: 'atomic' | 'partial'
  /** Runs inside the write transaction once the rows are written (records the idempotency key). */
  beforeCommit?: (tx: Db, summary: ImportSummary) => Promise<void>
}

/**
 * Bulk upsert by natural key. Every row goes through the checks of a single write (schema,
 * references, indicator range, kind rules); rows sharing a key are all rejected. In atomic
 * mode one bad row means nothing is written; in partial mode the valid rows are written.
 * A dry run does everything, including the upsert, in a transaction that is rolled back, so
 * its counts are exactly what the real request would report.
 *
 * The rows are taken in natural-key order (naturalKeyAsSent), IMPORT_SEGMENT_ROWS at a time: each
 * segment is checked and handed to the bulk writer, which streams it to the database while
 * the next segment is checked (issue #7: one import stream used to check every row, then
 * wait for the database, then answer). A segment never splits rows sharing a key, so
 * duplicates are found within it.
 */
export async function importValues (db: Db, ctx: WriteContext, raw: unknown[], options: ImportOptions): Promise<ImportSummary> {
  // One row outside an editor's region refuses the whole request, whatever the mode.
  await assertWritable(db, ctx, raw.map((r) => (typeof r === 'object' && r !== null ? (r as { regionCode?: unknown }).regionCode as string : undefined)))
  const errors: FieldError[] = []
  const rejected = new Set<number>()
  const reject = (index: number, e: FieldError) => {
    rejected.add(index)
    errors.push({ ...e, row: index + 1 })
  }

  const summary = (created: number, updated: number, unchanged: number): ImportSummary => {
    errors.sort((a, b) => (a.row ?? 0) - (b.row ?? 0))
    return {
      received: raw.length,
      created,
      updated,
      unchanged,
      rejected: rejected.size,
      dryRun: options.dryRun,
      mode: options.mode,
      errors: errors.slice(0, IMPORT_MAX_ERRORS) as ImportSummary['errors'],
      errorsTruncated: errors.length > IMPORT_MAX_ERRORS
    }
  }

  // A stable sort: rows sharing a key keep the order they were sent in.
  const keys = raw.map(naturalKeyAsSent)
  const order = raw.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0))

  /** The row to store, or undefined when the row is rejected (its errors recorded). */
  const check = (refs: References, index: number): ValueData | undefined => {
    const row = raw[index]
    const validate = validateRow ??= createValidators().body.compile(ValueCreate)
    if (!validate(row)) {
      for (const e of validate.errors ?? []) {
        const params = e.params as Record<string, unknown>
        const extra = e.keyword === 'additionalProperties' ? `/${String(params.additionalProperty)}` : e.keyword === 'required' ? `/${String(params.missingProperty)}` : ''
        reject(index, { field: `${e.instancePath}${extra}`, code: e.keyword, message: e.keyword === 'additionalProperties' ? 'is not a known field' : e.message ?? 'is not valid' })
      }
      return undefined
    }
    const checked = checkValueRow(refs, row as ValueInput, '')
    if (!hasProblems(checked)) return checked
    for (const e of checked.errors) reject(index, e)
    return undefined
  }

  const run = async (tx: Db): Promise<ImportSummary> => {
    const refs = await loadReferences(tx, raw)
    const writer = createBulkWriter(tx)
    try {
      for (let start = 0; start < order.length;) {
        let end = Math.min(start + IMPORT_SEGMENT_ROWS, order.length)
        while (end < order.length && keys[order[end]!] === keys[order[end - 1]!]) end++
        const segment: ValueData[] = []
        for (let first = start; first < end;) {
          let last = first + 1
          while (last < end && keys[order[last]!] === keys[order[first]!]) last++
          // Rows [first, last) share a key as sent; those that pass their checks share a
          // natural key. Two of them: which is right is unknowable, so all are refused.
          const valid: Array<{ index: number, data: ValueData }> = []
          for (let p = first; p < last; p++) {
            const data = check(refs, order[p]!)
            if (data !== undefined) valid.push({ index: order[p]!, data })
          }
          if (valid.length === 1) segment.push(valid[0]!.data)
          if (valid.length > 1) {
            const rows = valid.map((v) => v.index + 1).sort((a, b) => a - b).join(', ')
            for (const v of valid) reject(v.index, { field: '', code: 'duplicate-key', message: `rows ${rows} have the same region, indicator, period, breakdown (and plan)` })
          }
          first = last
        }
        // Atomic: after the first rejected row nothing more is written (all is rolled back),
        // but every row is still checked so that the answer lists all of them.
        if (options.mode === 'atomic' && rejected.size > 0) await writer.abandon()
        else await writer.write(segment)
        start = end
        // Let other requests (and the database's answers) in between two segments.
        if (start < order.length) await new Promise<void>((resolve) => setImmediate(resolve))
      }
      if (options.mode === 'atomic' && rejected.size > 0) return summary(0, 0, 0)
      const counts = await writer.finish()
      return summary(counts.created, counts.updated, counts.unchanged)
    } catch (err) {
      await writer.abandon().catch(() => {})
      throw err
    }
  }

  let result: ImportSummary | undefined
  try {
    await writeTransaction(db, ctx.actor, async (tx) => {
      result = await run(tx)
      if (options.dryRun || (options.mode === 'atomic' && result.rejected > 0)) throw new Rollback()
      if (options.beforeCommit !== undefined) await options.beforeCommit(tx, result)
    })
  } catch (err) {
    if (!(err instanceof Rollback)) throw err
  }
  return result!
}
