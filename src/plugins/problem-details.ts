import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { constraintProblem, isUnavailable } from '../db/errors.ts'
import { ApiError, catalogue, problemType, type ErrorCode, type FieldError } from '../lib/errors.ts'
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from '../lib/problem.ts'

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE'
}

const partNames: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' }

function validationErrors (err: FastifyError): FieldError[] {
  const part = partNames[err.validationContext ?? 'body'] ?? 'body'
  return (err.validation ?? []).map((v) => {
    let pointer = v.instancePath
    const params = v.params as Record<string, unknown>
    if (v.keyword === 'additionalProperties') pointer += `/${String(params.additionalProperty)}`
    if (v.keyword === 'required') pointer += `/${String(params.missingProperty)}`
    let message = v.message ?? 'is not valid'
    if (v.keyword === 'additionalProperties') message = 'is not a known property'
    if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) message = `must be one of: ${params.allowedValues.join(', ')}`
    return { field: `/${part}${pointer}`, code: v.keyword, message }
  })
}

/** Turns any error into RFC 9457 problem details; never shows SQL, stacks or table names. */
export function toApiError (err: FastifyError | Error, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err
  const fe = err as FastifyError
  if (fe.validation !== undefined) {
    return new ApiError('VALIDATION_FAILED', 'The request does not match the schema; see errors.', { errors: validationErrors(fe) })
  }
  if (fe.code !== undefined && fastifyCodes[fe.code] !== undefined) {
    const code = fastifyCodes[fe.code]!
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

/** The request's path without its query: a problem's `instance`. */
const pathOf = (url: string): string => url.split('?')[0] ?? url

/**
 * The problem+json document of an error (RFC 9457). `instance` is the request's path and
 * `requestId` its id; before Fastify has a request (parser errors) the path is whatever
 * could be read from the request line, and there is no id.
 */
export function problemDocument (problem: ApiError, request?: FastifyRequest | { url: string }): Record<string, unknown> {
  return {
    type: problemType(problem.code),
    title: catalogue[problem.code].title,
    status: problem.status,
    detail: problem.message,
    ...(request !== undefined ? { instance: pathOf(request.url) } : {}),
    code: problem.code,
    ...(problem.errors !== undefined ? { errors: problem.errors } : {}),
    ...(problem.extensions ?? {}),
    ...(request !== undefined && 'id' in request ? { requestId: String(request.id) } : {})
  }
}

export function sendProblem (reply: FastifyReply, request: FastifyRequest, problem: ApiError) {
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value)
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problemDocument(problem, request))
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

export default fp(async (app) => {
  app.addSchema(ProblemSchema)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const problem = toApiError(err, request)
    if (problem.status >= 500) {
      request.log.error({ err }, 'request failed')
    } else {
      request.log.info({ code: problem.code }, 'request rejected')
    }
    return sendProblem(reply, request, problem)
  })

  app.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, request, new ApiError('ROUTE_NOT_FOUND', `No route serves ${request.method} ${pathOf(request.url)}.`))
  })
}, { name: 'problem-details' })
