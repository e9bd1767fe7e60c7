import type { FastifyRequest } from 'fastify'

/**
 * What a write needs from its request: who makes it (recorded in history and the changes
 * feed) and its preconditions (If-Match / If-None-Match). Services take this instead of
 * the request, so the seed loader and bulk paths write through the same code.
 */
export interface WriteContext {
  /** Who writes: the token id (or `seed`, `bootstrap` for the service's own writes). */
  actor: string
  /** An editor's region: writes must stay in it and below it. Absent: unrestricted (admin). */
  scope?: string | null
  ifMatch?: string
  ifNoneMatch?: string
}

/** The actor of a request that carries no token (only reads can be anonymous). */
export const ANONYMOUS = 'anonymous'

export function writeContext (request: FastifyRequest): WriteContext {
  const header = (name: string) => {
    const v = request.headers[name]
    return typeof v === 'string' ? v : undefined
  }
  const principal = request.principal
  return {
    actor: principal?.tokenId ?? ANONYMOUS,
    scope: principal?.role === 'editor' ? principal.regionCode : null,
    ifMatch: header('if-match'),
    ifNoneMatch: header('if-none-match')
  }
}

/** True when every field of `next` equals the stored one (a write that would change nothing). */
export function sameFields (stored: object, next: object): boolean {
  const s = stored as Record<string, unknown>
  return Object.entries(next).every(([k, v]) => (s[k] ?? null) === (v ?? null))
}
