import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ErrorObject } from 'ajv'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isUnavailable, rootCause } from '../db/errors.ts'
import { ApiError, catalogue, type ErrorCode, type FieldError } from './catalogue.ts'
import { PROBLEM_CONTENT_TYPE, problemDocument, sendProblem } from './problem.ts'

/**
 * Every error the service can meet, mapped to a problem of the catalogue: validation
 * failures, Fastify's and Node's own refusals, database faults and constraint violations.
 * Nothing of an unknown error reaches the client (no SQL, stack or table name).
 */

interface PgError { code?: string, constraint?: string, table?: string, message?: string }

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE'
}

const partNames: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' }

/**
 * Ajv's errors as the problem's field errors, with `prefix` before each JSON pointer
 * (`/body`, `/query`, or nothing for a row of a bulk import, which numbers its rows).
 * The one mapping for request validation and for import rows.
 */
export function fieldErrorsOf (errors: readonly ErrorObject[], prefix: string): FieldError[] {
  return errors.map((v) => {
    let pointer = v.instancePath
    const params = v.params as Record<string, unknown>
    if (v.keyword === 'additionalProperties') pointer += `/${String(params.additionalProperty)}`
    if (v.keyword === 'required') pointer += `/${String(params.missingProperty)}`
    let message = v.message ?? 'is not valid'
    if (v.keyword === 'additionalProperties') message = 'is not a known property'
    if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) message = `must be one of: ${params.allowedValues.join(', ')}`
    return { field: `${prefix}${pointer}`, code: v.keyword, message }
  })
}

/**
 * The media types a route's body may have: those its schema declares per content type, or
 * JSON (and, for PATCH, JSON merge patch, RFC 7396).
 */
function acceptedTypes (request: FastifyRequest): string[] {
  const body = (request.routeOptions.schema as { body?: { content?: Record<string, unknown> } } | undefined)?.body
  if (body?.content !== undefined) return Object.keys(body.content)
  return request.method === 'PATCH' ? ['application/json', 'application/merge-patch+json'] : ['application/json']
}

/**
 * 415 naming what the route takes, in `detail`, in the `accept` member and in the header
 * HTTP has for it: Accept-Patch for PATCH (RFC 5789), Accept-Post otherwise.
 */
export function unsupportedMediaType (method: string, accept: string[]): ApiError {
  return new ApiError('UNSUPPORTED_MEDIA_TYPE', `This route takes a body of type ${accept.join(' or ')}.`, {
    headers: { [method === 'PATCH' ? 'accept-patch' : 'accept-post']: accept.join(', ') },
    extensions: { accept }
  })
}

/** Turns any error into RFC 9457 problem details; never shows SQL, stacks or table names. */
export function toApiError (err: FastifyError | Error, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err
  const fe = err as FastifyError
  if (fe.validation !== undefined) {
    return new ApiError('VALIDATION_FAILED', 'The request does not match the schema; see errors.', { errors: fieldErrorsOf(fe.validation, `/${partNames[fe.validationContext ?? 'body'] ?? 'body'}`) })
  }
  if (fe.code !== undefined && fastifyCodes[fe.code] !== undefined) {
    const code = fastifyCodes[fe.code]!
    if (code === 'UNSUPPORTED_MEDIA_TYPE') return unsupportedMediaType(request.method, acceptedTypes(request))
    const detail = code === 'INVALID_JSON' ? 'The body is not valid JSON.' : fe.message
    return new ApiError(code, detail)
  }
  if (isUnavailable(err)) {
    return new ApiError('DATABASE_UNAVAILABLE', 'The database is unavailable; the request changed nothing. Retry later.', { headers: { 'retry-after': '2' } })
  }
  const mapped = constraintProblem(err, request.method)
  if (mapped !== undefined) return mapped
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = (Object.keys(catalogue) as ErrorCode[]).find((c) => catalogue[c].status === fe.statusCode) ?? 'VALIDATION_FAILED'
    // Fastify's own 4xx messages (e.g. prototype poisoning, bad headers) carry no internals.
    return new ApiError(code, fe.message)
  }
  return new ApiError('INTERNAL_ERROR', 'An unexpected error occurred; it has been logged.')
}

/**
 * Fastify's `frameworkErrors` option: the router answers a path that is not valid
 * percent-encoded UTF-8 (FST_ERR_BAD_URL) or a parameter over `maxParamLength`
 * (FST_ERR_MAX_PARAM_LENGTH, a 414) before any hook or error handler runs, with its own
 * JSON body. Both are malformed requests: answer them as 400 problems like the rest.
 */
export function frameworkErrors (err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new ApiError('VALIDATION_FAILED', err.code === 'FST_ERR_BAD_URL'
      ? 'The path is not valid: a percent-escape does not decode to UTF-8.'
      : 'A path parameter is longer than any valid value.', { errors: [{ field: '/path', code: 'invalid', message: 'is not a valid path parameter' }] })
    : toApiError(err, request)
  reply.header('x-request-id', request.id)
  return sendProblem(reply, request, problem)
}

/** The target of the request line Node's parser refused (`GET /v1/regions?q=... HTTP/1.1`), if it got that far. */
function requestTarget (raw: unknown): { url: string } | undefined {
  if (!Buffer.isBuffer(raw)) return undefined
  const line = raw.subarray(0, Math.max(0, raw.indexOf('\r\n'))).toString('utf8')
  const target = /^[A-Z]+ (\/\S*) HTTP\/\d\.\d$/.exec(line)?.[1]
  return target !== undefined ? { url: target } : undefined
}

/**
 * Fastify's `clientErrorHandler` option: what Node's HTTP parser refuses before Fastify
 * sees a request (raw non-ASCII bytes in the URL, headers over the size limit, a request
 * not received within requestTimeout) is answered as problem+json like every other error
 * (Fastify's default is plain JSON). There is no request yet: `instance` is the path from
 * the request line when Node read one (not for a timeout), and there is no request id.
 */
export function clientErrorHandler (err: NodeJS.ErrnoException & { rawPacket?: unknown }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const problem = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? new ApiError('REQUEST_TIMEOUT', 'The request was not received in time.')
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError('HEADERS_TOO_LARGE', 'The request headers exceed the size limit.')
      : new ApiError('VALIDATION_FAILED', 'The request could not be parsed as HTTP; percent-encode non-ASCII characters in the URL (e.g. q=%E9%BB%84%E5%B2%A9 for q=黄岩).')
  if (socket.writable) {
    const body = JSON.stringify(problemDocument(problem, requestTarget(err.rawPacket)))
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
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
