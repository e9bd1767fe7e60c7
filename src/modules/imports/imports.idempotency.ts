import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { rootCause } from '../../db/errors.ts'
import { queryRows } from '../../db/query.ts'
import { idempotencyKeys } from '../../db/schema.ts'

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_HOURS = 24

/** How long a request waits for an earlier one with its key to finish (IDEMPOTENCY_WAIT_MS). */
export const IDEMPOTENCY_WAIT_MS = 30_000

/**
 * First half of the two-integer advisory lock key of an Idempotency-Key (the second is a
 * hash of the key). Two-integer keys never meet the one-bigint key of the migration lock.
 */
export const IDEMPOTENCY_LOCK_CLASS = 7_301_403

/** The second half of the key's advisory lock: 32 bits of its SHA-256 (two keys sharing it only wait for each other). */
export function idempotencyLockId (key: string): number {
  return createHash('sha256').update(key).digest().readInt32BE(0)
}

/**
 * Takes the transaction-scoped advisory lock of `key`, waiting at most `waitMs` for the
 * transaction that holds it (another request with the key, on any instance sharing the
 * database) to end. False when the wait ran out: the transaction is then aborted, and the
 * caller leaves it. Once the lock is held, every answer stored for the key is committed
 * and visible, and no other request can store one until this transaction ends.
 */
export async function lockKey (tx: Db, key: string, waitMs: number): Promise<boolean> {
  const id = idempotencyLockId(key)
  // No one holds it: the common case costs one round trip.
  const [free] = await queryRows<{ locked: boolean }>(tx, sql`select pg_try_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}::int, ${id}::int) as locked`)
  if (free?.locked === true) return true
  if (waitMs <= 0) return false
  // lock_timeout bounds the wait (SQLSTATE 55P03 when it runs out); it is set for this wait
  // only, so the import's own row locks keep the server's setting.
  await tx.execute(sql`select set_config('lock_timeout', ${`${Math.ceil(waitMs)}ms`}, true)`)
  try {
    await tx.execute(sql`select pg_advisory_xact_lock(${IDEMPOTENCY_LOCK_CLASS}::int, ${id}::int)`)
  } catch (err) {
    if ((rootCause(err) as { code?: string } | undefined)?.code === '55P03') return false
    throw err
  }
  await tx.execute(sql`set local lock_timeout to default`)
  return true
}

export interface StoredAnswer { status: number, response: unknown }

/** The stored answer for `key`: a replay when the request is the same, `mismatch` otherwise. */
export async function findAnswer (db: Db, key: string, requestHash: string): Promise<StoredAnswer | 'mismatch' | undefined> {
  const [row] = await db.select().from(idempotencyKeys).where(sql`${idempotencyKeys.key} = ${key} and ${idempotencyKeys.createdAt} > now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
  if (row === undefined) return undefined
  if (row.requestHash !== requestHash) return 'mismatch'
  return { status: row.status, response: row.response }
}

/**
 * Records the answer, in the transaction holding the key's lock (lockKey), which findAnswer
 * found none for. Returns it as stored: jsonb orders an object's members its own way, and
 * answering with the stored form makes the first answer byte for byte the same as its replays.
 */
export async function recordAnswer (tx: Db, key: string, requestHash: string, answer: StoredAnswer): Promise<StoredAnswer> {
  // An expired answer goes first, so a key reused after the TTL starts afresh.
  await tx.delete(idempotencyKeys).where(sql`${idempotencyKeys.key} = ${key} and ${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
  const [stored] = await tx.insert(idempotencyKeys).values({ key, requestHash, status: answer.status, response: answer.response })
    .returning({ status: idempotencyKeys.status, response: idempotencyKeys.response })
  return stored!
}

/** Removes expired keys (called now and then; the index on created_at keeps it cheap). */
export async function purgeExpired (db: Db): Promise<void> {
  await db.delete(idempotencyKeys).where(sql`${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
}
