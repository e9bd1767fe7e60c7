import { ApiError, type ErrorCode } from '../lib/errors.ts'

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

// Unique constraints by name: which resource collided.
const uniqueCodes: Record<string, ErrorCode> = {
  regions_pkey: 'REGION_EXISTS',
  indicators_pkey: 'INDICATOR_EXISTS',
  plans_pkey: 'PLAN_EXISTS',
  plans_document_number_key: 'DOCUMENT_NUMBER_TAKEN',
  yearly_values_natural_key: 'VALUE_EXISTS'
}

// Tables that can be referenced, by what a failed delete of them means.
const inUseCodes: Record<string, ErrorCode> = {
  regions: 'REGION_IN_USE',
  indicators: 'INDICATOR_IN_USE',
  plans: 'PLAN_IN_USE'
}

/**
 * Maps a constraint violation to a problem without any SQL text; returns undefined for
 * errors that are not the client's fault.
 */
export function constraintProblem (err: unknown, method: string): ApiError | undefined {
  const cause = rootCause(err) as PgError | undefined
  const code = cause?.code
  if (typeof code !== 'string') return undefined
  const constraint = cause?.constraint ?? ''
  switch (code) {
    case '23505':
      return new ApiError(uniqueCodes[constraint] ?? 'CONFLICT', 'The resource conflicts with one that already exists.')
    case '23503': {
      if (method === 'DELETE') {
        const referenced = Object.keys(inUseCodes).find((t) => constraint.endsWith(`_${t}_code_fk`) || constraint.endsWith(`_${t}_id_fk`) || constraint.startsWith(`${t}_parent`))
        return new ApiError(referenced !== undefined ? inUseCodes[referenced]! : 'CONFLICT', 'Other records still refer to this resource.')
      }
      return new ApiError('REFERENCE_NOT_FOUND', 'A referenced resource does not exist.')
    }
    case '23514':
    case '23502':
      return new ApiError('UNPROCESSABLE', 'The request breaks a rule of the registry.')
    case '22003':
    case '22P02':
    case '22007':
    case '22008':
      return new ApiError('UNPROCESSABLE', 'A value is out of range or malformed.')
    default:
      return undefined
  }
}
