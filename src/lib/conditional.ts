import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from '../errors/catalogue.ts'

/** Conditional requests (RFC 9110 §13): the ETag of a single resource is its revision. */
export function etagOf (revision: number): string {
  return `"${revision}"`
}

function tags (header: string): string[] {
  return header.split(',').map((t) => t.trim().replace(/^W\//, '')).filter((t) => t !== '')
}

/**
 * Whether If-None-Match names `etag` or is `*` (the weak comparison RFC 9110 §13.1.2 asks
 * of it: `W/"x"` and `"x"` match). No header: false.
 */
export function noneMatchNames (request: FastifyRequest, etag: string): boolean {
  const header = request.headers['if-none-match']
  if (typeof header !== 'string') return false
  const list = tags(header)
  return list.includes('*') || list.includes(etag.replace(/^W\//, ''))
}

/** GET with If-None-Match naming the current ETag (weak comparison): answer 304. */
export function isNotModified (request: FastifyRequest, revision: number): boolean {
  return noneMatchNames(request, etagOf(revision))
}

export interface Preconditions { ifMatch?: string, ifNoneMatch?: string }

/**
 * PUT, PATCH and DELETE with If-Match: 412 unless the resource exists and its ETag is
 * listed (strong comparison, so weak tags never match). `undefined` means "does not exist".
 * PUT with `If-None-Match: *` only creates: 412 when the resource exists.
 */
export function assertIfMatch (conditions: Preconditions, revision: number | undefined): void {
  if (revision !== undefined && conditions.ifNoneMatch?.trim() === '*' && conditions.ifMatch === undefined) {
    throw new ApiError('PRECONDITION_FAILED', 'The resource already exists (If-None-Match: *).')
  }
  const header = conditions.ifMatch
  if (header === undefined) return
  const list = header.split(',').map((t) => t.trim())
  const ok = revision !== undefined && (list.includes('*') || list.includes(etagOf(revision)))
  if (!ok) {
    throw new ApiError('PRECONDITION_FAILED', revision === undefined
      ? 'If-Match was sent but the resource does not exist.'
      : `If-Match does not match the current ETag ${etagOf(revision)}; fetch the resource again.`)
  }
}

/** Sends a single resource with its ETag, or 304 when the client's copy is current. */
export function sendResource<T extends { revision: number }> (request: FastifyRequest, reply: FastifyReply, resource: T, status = 200) {
  reply.header('etag', etagOf(resource.revision))
  if (status === 200 && request.method === 'GET' && isNotModified(request, resource.revision)) {
    return reply.code(304).send()
  }
  return reply.code(status).send(resource)
}
