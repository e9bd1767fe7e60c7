import { sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { idempotencyKeys } from '../../db/schema.ts'

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_HOURS = 24

export interface StoredAnswer { status: number, response: unknown }

/** The stored answer for `key`: a replay when the request is the same, `mismatch` otherwise. */
export async function findAnswer (db: Db, key: string, requestHash: string): Promise<StoredAnswer | 'mismatch' | undefined> {
  const [row] = await db.select().from(idempotencyKeys).where(sql`${idempotencyKeys.key} = ${key} and ${idempotencyKeys.createdAt} > now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
  if (row === undefined) return undefined
  if (row.requestHash !== requestHash) return 'mismatch'
  return { status: row.status, response: row.response }
}

/**
 * Records the answer; false when another request recorded this key first (its transaction
 * committed while ours waited on the unique index): the caller rolls back and replays it.
 */
export async function recordAnswer (db: Db, key: string, requestHash: string, answer: StoredAnswer): Promise<boolean> {
  // Expired keys go first, so a reused key after the TTL starts afresh.
  await db.delete(idempotencyKeys).where(sql`${idempotencyKeys.key} = ${key} and ${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
  const inserted = await db.insert(idempotencyKeys)
    .values({ key, requestHash, status: answer.status, response: answer.response })
    .onConflictDoNothing().returning({ key: idempotencyKeys.key })
  return inserted.length === 1
}

/** Removes expired keys (called now and then; the index on created_at keeps it cheap). */
export async function purgeExpired (db: Db): Promise<void> {
  await db.delete(idempotencyKeys).where(sql`${idempotencyKeys.createdAt} <= now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`)
}
