import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { Db } from '../../db/client.ts'
import { serviceSecrets, tokens } from '../../db/schema.ts'
import { newPepper } from './tokens.crypto.ts'

export type TokenRow = typeof tokens.$inferSelect

export function createTokensRepository (db: Db) {
  return {
    async get (id: string): Promise<TokenRow | undefined> {
      return (await db.select().from(tokens).where(eq(tokens.id, id)))[0]
    },
    async list (after: string | undefined, limit: number): Promise<TokenRow[]> {
      return db.select().from(tokens).where(after !== undefined ? gt(tokens.id, after) : undefined).orderBy(asc(tokens.id)).limit(limit + 1)
    },
    async insert (row: typeof tokens.$inferInsert): Promise<TokenRow> {
      return (await db.insert(tokens).values(row).returning())[0]!
    },
    /** Inserts the token unless its id is taken (by a concurrent start): false then. */
    async insertIfAbsent (row: typeof tokens.$inferInsert): Promise<boolean> {
      return (await db.insert(tokens).values(row).onConflictDoNothing().returning({ id: tokens.id })).length === 1
    },
    async revoke (id: string): Promise<TokenRow | undefined> {
      return (await db.update(tokens).set({ revokedAt: sql`coalesce(${tokens.revokedAt}, now())` }).where(eq(tokens.id, id)).returning())[0]
    },
    async hasActiveAdmin (): Promise<boolean> {
      const rows = await db.select({ id: tokens.id }).from(tokens).where(and(eq(tokens.role, 'admin'), sql`${tokens.revokedAt} is null`)).limit(1)
      return rows.length > 0
    },
    /** The pepper kept in the database (made on first use) when TOKEN_PEPPER is not set. */
    async storedPepper (): Promise<string> {
      await db.insert(serviceSecrets).values({ name: 'token_pepper', value: newPepper() }).onConflictDoNothing()
      return (await db.select().from(serviceSecrets).where(eq(serviceSecrets.name, 'token_pepper')))[0]!.value
    }
  }
}
