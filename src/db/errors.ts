interface PgError { code?: string, constraint?: string, table?: string, message?: string }

/** The driver error behind drizzle's wrapper (whose message holds the SQL text). */
export function rootCause (err: unknown): unknown {
  let current = err
  for (let i = 0; i < 5 && current instanceof Error && current.cause !== undefined; i++) {
    if (typeof (current as PgError).code === 'string' && /^[0-9A-Z]{5}$/.test((current as PgError).code!)) break
    current = current.cause
  }
  return current
}

const UNAVAILABLE_SQLSTATE = /^(08|53|57P0|57014|40001|40P01|55P03|58)/
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'])
// pg's own errors carry no code. "is not queryable": a client whose connection died, e.g.
// drizzle's rollback after the server went away, which replaces the original error.
const UNAVAILABLE_MESSAGE = /Connection terminated|connection timeout|Client has encountered a connection error|is not queryable|Query read timeout|Cannot use a pool after calling end|PGlite is closed|timeout exceeded when trying to connect/i

/** True when the error means "the database is not reachable now", answered with 503. */
export function isUnavailable (err: unknown): boolean {
  const cause = rootCause(err) as PgError | undefined
  if (cause === undefined || cause === null) return false
  const code = cause.code
  if (typeof code === 'string' && (UNAVAILABLE_NODE.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true
  return typeof cause.message === 'string' && UNAVAILABLE_MESSAGE.test(cause.message)
}

/** True when the error is a unique-key violation (SQLSTATE 23505). */
export function isUniqueViolation (err: unknown): boolean {
  return (rootCause(err) as PgError | undefined)?.code === '23505'
}
