import { sql } from 'drizzle-orm'
import type { Db } from './client.ts'

/**
 * A write transaction attributed to `actor`: the setting is local to the transaction and
 * read by column defaults and the history/changes triggers (registry_actor()).
 */
export async function writeTransaction<T> (db: Db, actor: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('registry.actor', ${actor}, true)`)
    return fn(tx)
  })
}
