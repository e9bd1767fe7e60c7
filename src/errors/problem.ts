import type { FastifyReply, FastifyRequest } from 'fastify'
import Negotiator from 'negotiator'
import { Type } from 'typebox'
import { catalogue, problemType, type ApiError, type ErrorCode } from './catalogue.ts'
import { zh } from './zh.ts'
import { addVary } from '../lib/vary.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI naming the problem type (stable per code)' }),
  title: Type.String({ description: 'Short summary of the problem type' }),
  status: Type.Integer({ description: 'HTTP status code' }),
  detail: Type.String({ description: 'What went wrong in this occurrence' }),
  instance: Type.String({ description: 'The request path' }),
  code: Type.String({ description: 'Stable machine-readable code from the error catalogue', examples: ['REGION_NOT_FOUND'] }),
  errors: Type.Optional(Type.Array(Type.Object({
    field: Type.Optional(Type.String({ description: 'JSON pointer of the offending field, prefixed by its part (`/body/...`, `/query/...`)' })),
    row: Type.Optional(Type.Integer({ description: 'Row number in a bulk request (1-based)' })),
    code: Type.String({ description: 'What is wrong with the field' }),
    message: Type.String()
  }, { additionalProperties: false }))),
  requestId: Type.Optional(Type.String({ description: 'Request id, as in the X-Request-Id header and the logs' })),
  summary: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Bulk import only: the import summary (received, created, updated, unchanged, rejected, ...)' })),
  existingId: Type.Optional(Type.Integer({ description: '`VALUE_EXISTS` only: the id of the value that already has the key (also in `Location`)' })),
  accept: Type.Optional(Type.Array(Type.String(), { description: '`UNSUPPORTED_MEDIA_TYPE` only: the media types the route accepts' })),
  zh: Type.Optional(Type.Object({
    title: Type.String({ description: 'The title in Chinese' }),
    detail: Type.String({ description: 'What the problem means and what to do, in Chinese' })
  }, { additionalProperties: false, description: 'Present when Accept-Language ranks Chinese (zh, zh-CN, ...) above English: `title` and `detail` stay English and stable, this member renders them for the people who read them', examples: [{ title: '地区不存在', detail: '没有该区划代码对应的地区，请核对统计用区划代码。' }] }))
}, {
  $id: 'Problem',
  additionalProperties: false,
  description: 'RFC 9457 problem details',
  examples: [{
    type: 'urn:indicator-registry:problem:region-not-found',
    title: 'Region not found',
    status: 404,
    detail: 'No region has code 331099.',
    instance: '/v1/regions/331099',
    code: 'REGION_NOT_FOUND'
  }]
})

const descriptions: Record<number, string> = {
  401: 'No valid bearer token (missing, unknown, revoked or expired); see WWW-Authenticate',
  403: 'The token may not do this: wrong role, or a region outside an editor\'s scope',
  400: 'The request is malformed: a body, query or path parameter fails validation (`VALIDATION_FAILED`, `INVALID_CURSOR`, `INVALID_JSON`)',
  404: 'The resource does not exist',
  406: 'None of the accepted media types can be produced',
  409: 'Conflict with the current state',
  412: 'If-Match did not match the current ETag',
  413: 'The body is larger than the limit',
  415: 'The content type is not supported',
  422: 'The request is well-formed but breaks a rule of the registry',
  429: 'Rate limited (per client: its token, else its address; one count over all instances when the server keeps it in Redis); see Retry-After',
  500: 'Unexpected server error (no internal detail is shown)',
  503: 'Unavailable for now (the database, a draining or overloaded instance, or an earlier request with the same Idempotency-Key still running); retry after Retry-After seconds'
}

/** Response schemas for the error statuses a route can send, all problem+json. */
export function problems (...statuses: number[]) {
  const out: Record<number, unknown> = {}
  for (const status of [...statuses, 500, 503]) {
    const codes = (Object.keys(catalogue) as ErrorCode[]).filter((c) => catalogue[c].status === status)
    out[status] = {
      description: `${descriptions[status] ?? 'Error'}. Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } }
    }
  }
  return out
}

/** The request's path without its query: a problem's `instance`. */
export const pathOf = (url: string): string => url.split('?')[0] ?? url

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
    ...(request !== undefined && 'id' in request ? { requestId: String(request.id) } : {}),
    ...(request !== undefined && 'headers' in request && prefersChinese(request.headers['accept-language']) ? { zh: zh[problem.code] } : {})
  }
}

/** Whether an Accept-Language header ranks Chinese above English (RFC 9110 §12.5.4). */
export function prefersChinese (header: string | undefined): boolean {
  if (header === undefined || header === '') return false
  return new Negotiator({ headers: { 'accept-language': header } }).language(['en', 'zh']) === 'zh'
}

export function sendProblem (reply: FastifyReply, request: FastifyRequest, problem: ApiError) {
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value)
  addVary(reply, 'Accept-Language')
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problemDocument(problem, request))
}
