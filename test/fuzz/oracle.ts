import type { LightMyRequestResponse } from 'fastify'
import type { Operation, Spec } from './spec.ts'

/**
 * The pass criteria of one response: no 5xx (503 included: the database
 * is up), every error RFC 9457 problem+json whose `status` is the HTTP status, no SQL or
 * stack text anywhere, every 2xx body valid against its documented response schema.
 */

export type AuthMode = 'token' | 'none' | 'garbage'

/** Text that must never appear in an answer unless the client sent it. */
export const LEAK_PATTERNS: readonly RegExp[] = [
  /select /i, /insert into/i, /update .* set/i, /delete from/i, /syntax error/i, /violates/i, /constraint/i,
  /relation "/i, /at .*\.ts:/i, /node_modules/i, /DrizzleQueryError/i
]

export interface Verdict {
  /** Reasons the response breaks the contract (empty: it passes). */
  failures: string[]
  /** Statuses the operation does not document (reported, not failed). */
  undocumented?: string
}

function stringLeaves (value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) stringLeaves(v, out)
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k)
      stringLeaves(v, out)
    }
  }
  return out
}

/**
 * Leaks: a pattern matching text that is not an echo of something a client sent (this
 * request or an earlier one whose data is now stored and served back).
 */
function leaks (texts: string[], sent: (fragment: string) => boolean): string[] {
  const found: string[] = []
  for (const text of texts) {
    for (const pattern of LEAK_PATTERNS) {
      const m = pattern.exec(text)
      if (m !== null && !sent(m[0])) found.push(`leak ${pattern}: ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + m[0].length + 60))}`)
    }
  }
  return found
}

const mediaTypeOf = (res: LightMyRequestResponse) => String(res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()

/**
 * `exact` is false when the request was sent with another method or to a changed path: it
 * may reach a different route, so its success is not checked against this operation.
 */
export function judge (spec: Spec, op: Operation, req: { method: string, auth: AuthMode, exact: boolean }, tokenGiven: boolean, res: LightMyRequestResponse, sent: (fragment: string) => boolean): Verdict {
  const { method, auth } = req
  const failures: string[] = []
  const status = res.statusCode
  const documented = op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`]
  const undocumented = documented === undefined ? String(status) : undefined
  const mediaType = mediaTypeOf(res)

  if (status >= 500) failures.push(`server error ${status}`)
  if (status === 401 && auth === 'token' && tokenGiven) failures.push('401 with the admin token')

  if (method === 'HEAD' || status === 204 || status === 304) {
    if (res.rawPayload.length > 0 && method !== 'HEAD') failures.push(`${status} with a body of ${res.rawPayload.length} bytes`)
    return { failures, undocumented }
  }

  let parsed: unknown
  let isJson = false
  if (mediaType === 'application/json' || mediaType === 'application/problem+json') {
    try {
      parsed = JSON.parse(res.body)
      isJson = true
    } catch {
      failures.push(`${mediaType} body is not JSON: ${JSON.stringify(res.body.slice(0, 200))}`)
    }
  }
  // Text answers (CSV) are checked cell by cell, as JSON answers are string by string.
  failures.push(...leaks(isJson ? stringLeaves(parsed) : res.body.split(/[\r\n,]/), sent))

  if (status >= 400) {
    if (mediaType !== 'application/problem+json') failures.push(`error ${status} with content-type ${String(res.headers['content-type'])}, not application/problem+json`)
    if (isJson) {
      const p = parsed as Record<string, unknown>
      for (const field of ['type', 'title', 'detail', 'instance', 'code']) {
        if (typeof p?.[field] !== 'string') failures.push(`problem.${field} is not a string`)
      }
      if (p?.status !== status) failures.push(`problem.status ${JSON.stringify(p?.status)} differs from the HTTP status ${status}`)
      if (!spec.problem(parsed)) failures.push(`problem does not match the Problem schema: ${JSON.stringify(spec.problem.errors?.slice(0, 3))}`)
    }
    return { failures, undocumented }
  }

  if (status >= 200 && status < 300 && req.exact) {
    // DESIGN.md: creating answers 201 with Location.
    if (status === 201 && res.headers.location === undefined) failures.push('201 without a Location header')
    if (documented === undefined) {
      failures.push(`success status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')})`)
    } else if (documented[mediaType] === undefined) {
      failures.push(`${status} answered ${mediaType || 'no content type'}; documented: ${Object.keys(documented).join(', ') || 'no content'}`)
    } else if (isJson) {
      const validate = spec.validator(op, String(status), mediaType)
      if (validate !== undefined && !validate(parsed)) {
        failures.push(`${status} body does not match the response schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`)
      }
    }
  }
  return { failures, undocumented }
}
