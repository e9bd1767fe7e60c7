import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Token strings look like `irt_<id>_<secret>`: the id (public, 12 hex digits) finds the
 * stored row, the secret (32 random bytes, base64url) proves possession. Only
 * HMAC-SHA256(pepper, secret) is stored: the secret has 256 bits of entropy, so a keyed
 * fast hash cannot be brute-forced, and a leaked table is useless without the pepper.
 */
const TOKEN = /^irt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/

export function newToken (): { id: string, secret: string, token: string } {
  const id = randomBytes(6).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  return { id, secret, token: `irt_${id}_${secret}` }
}

export function parseToken (token: string): { id: string, secret: string } | undefined {
  const m = TOKEN.exec(token)
  return m === null ? undefined : { id: m[1]!, secret: m[2]! }
}

export function hashSecret (pepper: string, secret: string): string {
  return createHmac('sha256', pepper).update(secret).digest('base64url')
}

export function secretMatches (pepper: string, secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(pepper, secret))
  const b = Buffer.from(storedHash)
  return a.length === b.length && timingSafeEqual(a, b)
}

export function newPepper (): string {
  return randomBytes(32).toString('base64url')
}
