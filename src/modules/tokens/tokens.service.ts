import type { Db } from '../../db/client.ts'
import { writeTransaction } from '../../db/transaction.ts'
import { ApiError, notFound } from '../../errors/catalogue.ts'
import type { WriteContext } from '../../lib/write-context.ts'
import { hashSecret, newToken, parseToken, secretMatches } from './tokens.crypto.ts'
import { createTokensRepository, type TokenRow } from './tokens.repository.ts'

export type Role = TokenRow['role']

/** Who is calling: a verified token. Editors carry the region they may write. */
export interface Principal {
  tokenId: string
  role: Role
  regionCode: string | null
}

export interface TokenInput { name: string, role: Role, regionCode?: string | null, expiresAt?: string | null }

export function createTokensService (db: Db, options: { pepper?: string } = {}) {
  let pepper: Promise<string> | undefined
  // The pepper comes from TOKEN_PEPPER, else from the database (made once, on first use).
  const getPepper = async () => {
    pepper ??= options.pepper !== undefined ? Promise.resolve(options.pepper) : createTokensRepository(db).storedPepper()
    try {
      return await pepper
    } catch (err) {
      pepper = undefined // a database fault must not stick
      throw err
    }
  }

  return {
    /** Creates a token; its secret is in the answer and nowhere else. */
    async create (ctx: WriteContext, input: TokenInput): Promise<{ row: TokenRow, token: string }> {
      if ((input.role === 'editor') !== (input.regionCode != null)) {
        throw new ApiError('UNPROCESSABLE', input.role === 'editor' ? 'An editor token needs the regionCode it may write.' : 'Only editor tokens are scoped to a region.', {
          errors: [{ field: '/body/regionCode', code: input.role === 'editor' ? 'required' : 'not-allowed', message: 'regionCode goes with role editor only' }]
        })
      }
      if (input.expiresAt != null && Date.parse(input.expiresAt) <= Date.now()) {
        throw new ApiError('UNPROCESSABLE', 'expiresAt lies in the past.', { errors: [{ field: '/body/expiresAt', code: 'past', message: 'must be in the future' }] })
      }
      const secret = await getPepper()
      const { id, secret: plain, token } = newToken()
      return writeTransaction(db, ctx.actor, async (tx) => {
        const row = await createTokensRepository(tx).insert({
          id,
          name: input.name,
          role: input.role,
          regionCode: input.regionCode ?? null,
          secretHash: hashSecret(secret, plain),
          expiresAt: input.expiresAt != null ? new Date(input.expiresAt) : null
        })
        return { row, token }
      })
    },

    /** The principal a token string stands for; undefined when unknown, revoked, expired or forged. */
    async verify (token: string): Promise<Principal | undefined> {
      const parsed = parseToken(token)
      if (parsed === undefined) return undefined
      const row = await createTokensRepository(db).get(parsed.id)
      if (row === undefined || row.revokedAt !== null) return undefined
      if (row.expiresAt !== null && row.expiresAt.getTime() <= Date.now()) return undefined
      if (!secretMatches(await getPepper(), parsed.secret, row.secretHash)) return undefined
      return { tokenId: row.id, role: row.role, regionCode: row.regionCode }
    },

    async revoke (ctx: WriteContext, id: string): Promise<void> {
      await writeTransaction(db, ctx.actor, async (tx) => {
        if (await createTokensRepository(tx).revoke(id) === undefined) throw notFound.token(id)
      })
    },

    /**
     * Registers a token string chosen by the operator (BOOTSTRAP_ADMIN_TOKEN) as an admin
     * token, once: the first admin of a fresh install.
     */
    async bootstrapAdmin (token: string): Promise<'created' | 'exists'> {
      const parsed = parseToken(token)
      if (parsed === undefined) throw new Error('BOOTSTRAP_ADMIN_TOKEN must look like irt_<12 hex digits>_<43 base64url characters>; make one with npm run token:create -- --print-only')
      const repo = createTokensRepository(db)
      if (await repo.get(parsed.id) !== undefined) return 'exists'
      // The pepper first: made on first use through `db`, which inside the transaction would
      // wait for it on the embedded database (one connection) and never return.
      const pepper = await getPepper()
      // Instances started together with the same token race here: one creates it.
      const created = await writeTransaction(db, 'bootstrap', (tx) =>
        createTokensRepository(tx).insertIfAbsent({ id: parsed.id, name: 'bootstrap admin', role: 'admin', regionCode: null, secretHash: hashSecret(pepper, parsed.secret) }))
      return created ? 'created' : 'exists'
    }
  }
}

export type TokensService = ReturnType<typeof createTokensService>
