import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { ApiError, type FieldError } from '../../errors/catalogue.ts'
import { assertValuesWritable } from '../../lib/access.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { NUMBER_FIELDS, numberCell } from '../values/values.cells.ts'
import { checkValues, loadReferences, type References } from '../values/values.check.ts'
import { naturalKeyAsSent, type ValueFields } from '../values/values.model.ts'
import { createValueWriter } from '../values/values.writer.ts'
import { findAnswer, IDEMPOTENCY_WAIT_MS, lockKey, purgeExpired, recordAnswer } from './imports.idempotency.ts'
import { IMPORT_MAX_ERRORS, type ImportSummary } from './imports.schemas.ts'

/**
 * Rows checked before they are handed to the writer. The checks of the next rows (schema,
 * references, rules: the service's CPU) run while the database writes the ones before.
 */
export const IMPORT_SEGMENT_ROWS = 1000

/** Rolls the write transaction (or savepoint) back: a dry run, or an atomic import with rejected rows. */
class Rollback extends Error {}

interface ImportOptions {
  dryRun: boolean
  mode: 'atomic' | 'partial'
  /** The rows come from a file (CSV, workbook): their number cells are read as clerks write them (values.cells.ts). */
  cells?: boolean
}

/**
 * The number cells of a file's row as the decimal text a JSON body would carry, read with
 * the indicator's unit (`99%` is a percent indicator's 99): the row to check, or the
 * problems of its cells, said for a clerk.
 */
function readCells (refs: References, row: unknown): { row: unknown, errors: FieldError[] } {
  if (typeof row !== 'object' || row === null) return { row, errors: [] }
  const cells = row as Record<string, unknown>
  const code = cells.indicatorCode
  const unit = typeof code === 'string' ? refs.indicators.get(code)?.unit : undefined
  const out = { ...cells }
  const errors: FieldError[] = []
  for (const field of NUMBER_FIELDS) {
    const cell = cells[field]
    if (typeof cell !== 'string') continue
    const read = numberCell(cell, field, unit)
    if ('text' in read) out[field] = read.text
    else errors.push({ field: `/${field}`, code: 'number', message: read.message })
  }
  return { row: out, errors }
}

/**
 * Bulk upsert by natural key. Every row goes through the checks of a single write (schema,
 * references, indicator range, kind rules); rows sharing a key are all rejected. In atomic
 * mode one bad row means nothing is written; in partial mode the valid rows are written.
 * A dry run does everything, including the upsert, in a transaction that is rolled back, so
 * its counts are exactly what the real request would report.
 *
 * The rows are taken in natural-key order (naturalKeyAsSent), IMPORT_SEGMENT_ROWS at a time: each
 * segment is checked and handed to the value writer, which streams it to the database while
 * the next segment is checked, so one import keeps both the service and the database busy.
 * A segment never splits rows sharing a key, so duplicates are found within it.
 *
 * `db` may be a transaction (a keyed import's): the import then runs in a savepoint of it.
 */
async function importValues (db: Db, ctx: WriteContext, raw: readonly unknown[], options: ImportOptions): Promise<ImportSummary> {
  // One row outside an editor's region (or, for a target, its plan's) refuses the whole
  // request, whatever the mode.
  await assertValuesWritable(db, ctx, raw, true, IMPORT_MAX_ERRORS)
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

  const run = async (tx: Db): Promise<ImportSummary> => {
    const refs = await loadReferences(tx, raw)
    // A file's number cells are read once the indicators (their units) are known; a row
    // with an unreadable cell is rejected with that message alone.
    const cellErrors = new Map<number, FieldError[]>()
    const rows = options.cells === true
      ? raw.map((r, i) => {
        const read = readCells(refs, r)
        if (read.errors.length > 0) cellErrors.set(i, read.errors)
        return read.row
      })
      : raw
    const writer = createValueWriter(tx)
    try {
      for (let start = 0; start < order.length;) {
        let end = Math.min(start + IMPORT_SEGMENT_ROWS, order.length)
        while (end < order.length && keys[order[end]!] === keys[order[end - 1]!]) end++
        const indexes = order.slice(start, end)
        const checked = checkValues(refs, indexes.map((i) => rows[i]), () => '')
        for (const [p, index] of indexes.entries()) {
          const errors = cellErrors.get(index)
          if (errors === undefined) continue
          checked.rows[p] = undefined
          for (const e of errors) reject(index, e)
        }
        for (const problem of checked.problems) if (!cellErrors.has(indexes[problem.index]!)) for (const e of problem.errors) reject(indexes[problem.index]!, e)
        const segment: ValueFields[] = []
        for (let first = 0; first < indexes.length;) {
          let last = first + 1
          while (last < indexes.length && keys[indexes[last]!] === keys[indexes[first]!]) last++
          // Rows [first, last) share a key as sent; those that pass their checks share a
          // natural key. Two of them: which is right is unknowable, so all are refused.
          const valid: Array<{ index: number, data: ValueFields }> = []
          for (let p = first; p < last; p++) {
            const data = checked.rows[p]
            if (data !== undefined) valid.push({ index: indexes[p]!, data })
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
    })
  } catch (err) {
    if (!(err instanceof Rollback)) throw err
  }
  return result!
}

export interface ImportRequest {
  dryRun: boolean
  mode: 'atomic' | 'partial'
  /** The rows come from a file: see ImportOptions.cells. */
  cells?: boolean
  /** The Idempotency-Key header, and the fingerprint of the request it was sent with. */
  idempotency?: { key: string, requestHash: string }
}

/** An import's answer: 200 with the summary, or 422 for a refused atomic import; `replayed` when it is the stored answer of an earlier request. */
export interface ImportAnswer { status: 200 | 422, summary: ImportSummary, replayed: boolean }

export interface ImportsServiceOptions {
  /** How long a request waits for an earlier one with its Idempotency-Key (IDEMPOTENCY_WAIT_MS). */
  idempotencyWaitMs?: number
}

const reused = (detail: string) => new ApiError('IDEMPOTENCY_KEY_REUSED', detail)

const inProgress = (waitMs: number) => new ApiError('IDEMPOTENCY_KEY_IN_PROGRESS',
  `An earlier request with this Idempotency-Key was still running after this one had waited ${waitMs / 1000} s for it; this one imported nothing. Retry it unchanged: once the earlier one is done, its answer is replayed.`,
  { headers: { 'retry-after': '5' } })

const statusOf = (mode: ImportRequest['mode'], summary: ImportSummary): 200 | 422 => mode === 'atomic' && summary.rejected > 0 ? 422 : 200

/** Resolves true when `work` settles within `ms`, false when the time runs out first. */
function settlesWithin (work: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false)
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  return Promise.race([work.then(() => true, () => true), expired]).finally(() => clearTimeout(timer))
}

export function createImportsService (db: Db, options: ImportsServiceOptions = {}) {
  const waitMs = options.idempotencyWaitMs ?? IDEMPOTENCY_WAIT_MS
  // Requests with a key that a request of this process is already running wait here, not
  // each on a pooled connection blocked on the key's lock; across processes the lock
  // (lockKey) is what serialises them, this only spares connections.
  const running = new Map<string, Promise<unknown>>()

  /**
   * One transaction per keyed request: it takes the key's advisory lock (so a request with
   * the same key, on this or another instance, waits for this one to commit), replays the
   * answer stored for the key if there is one, else imports and stores its answer, 200 or
   * 422, before it commits. The import itself runs in a savepoint, which a refused atomic
   * import rolls back while its answer is still stored.
   */
  async function runKeyed (ctx: WriteContext, rows: readonly unknown[], request: ImportRequest, key: { key: string, requestHash: string }, deadline: number): Promise<ImportAnswer> {
    return writeTransaction(db, ctx.actor, async (tx) => {
      if (!await lockKey(tx, key.key, deadline - Date.now())) throw inProgress(waitMs)
      const stored = await findAnswer(tx, key.key, key.requestHash)
      if (stored === 'mismatch') throw reused('This Idempotency-Key was already used with a different body or options; use a new key for a new request.')
      if (stored !== undefined) return { status: stored.status === 422 ? 422 : 200, summary: stored.response as ImportSummary, replayed: true }
      const summary = await importValues(tx, ctx, rows, { dryRun: false, mode: request.mode, cells: request.cells })
      const status = statusOf(request.mode, summary)
      const recorded = await recordAnswer(tx, key.key, key.requestHash, { status, response: summary })
      return { status, summary: recorded.response as ImportSummary, replayed: false }
    })
  }

  return {
    /**
     * Imports the rows as sent (a JSON body's `values` or a CSV's records). With an
     * Idempotency-Key the first answer for the key and request is stored and replayed to
     * every retry, whichever instance it reaches; the same key with another request is 422
     * IDEMPOTENCY_KEY_REUSED; a retry that waited `idempotencyWaitMs` for the first one to
     * finish is 503 IDEMPOTENCY_KEY_IN_PROGRESS.
     */
    async run (ctx: WriteContext, rows: readonly unknown[], request: ImportRequest): Promise<ImportAnswer> {
      const key = request.idempotency
      if (key === undefined || request.dryRun) {
        const summary = await importValues(db, ctx, rows, { dryRun: request.dryRun, mode: request.mode, cells: request.cells })
        return { status: statusOf(request.mode, summary), summary, replayed: false }
      }
      const deadline = Date.now() + waitMs
      for (let pending = running.get(key.key); pending !== undefined; pending = running.get(key.key)) {
        if (!await settlesWithin(pending, deadline - Date.now())) throw inProgress(waitMs)
      }
      const work = runKeyed(ctx, rows, request, key, deadline)
      running.set(key.key, work)
      // Gone from the queue the moment it settles (this reaction is registered before any
      // waiter's): a waiter that found it still there afterwards would await it again and
      // again without ever yielding to I/O, and so never let this request go on.
      const settled = () => { if (running.get(key.key) === work) running.delete(key.key) }
      work.then(settled, settled)
      const answer = await work
      if (!answer.replayed && Math.random() < 0.01) await purgeExpired(db)
      return answer
    }
  }
}
