/**
 * The error catalogue: every problem the API answers has a stable `code` listed here
 * with its HTTP status and title (RFC 9457 problem details). Integrators switch on
 * `code`; `title` never changes for a code, `detail` explains the occurrence.
 */
export const catalogue = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  INVALID_CURSOR: { status: 400, title: 'The cursor is not valid' },
  INVALID_JSON: { status: 400, title: 'The body is not valid JSON' },
  UNAUTHENTICATED: { status: 401, title: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, title: 'This token\'s role may not do this' },
  OUTSIDE_SCOPE: { status: 403, title: 'This token may not write this region' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  REGION_NOT_FOUND: { status: 404, title: 'Region not found' },
  INDICATOR_NOT_FOUND: { status: 404, title: 'Indicator not found' },
  PLAN_NOT_FOUND: { status: 404, title: 'Plan not found' },
  VALUE_NOT_FOUND: { status: 404, title: 'Yearly value not found' },
  TOKEN_NOT_FOUND: { status: 404, title: 'Token not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable representation' },
  REGION_EXISTS: { status: 409, title: 'A region with this code already exists' },
  INDICATOR_EXISTS: { status: 409, title: 'An indicator with this code already exists' },
  PLAN_EXISTS: { status: 409, title: 'A plan with this id already exists' },
  DOCUMENT_NUMBER_TAKEN: { status: 409, title: 'Another plan already has this document number' },
  VALUE_EXISTS: { status: 409, title: 'A value with this key already exists' },
  REGION_IN_USE: { status: 409, title: 'The region still has sub-regions, plans or values' },
  INDICATOR_IN_USE: { status: 409, title: 'The indicator still has values' },
  PLAN_IN_USE: { status: 409, title: 'Other plans implement this plan' },
  CONFLICT: { status: 409, title: 'The request conflicts with the current state' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request was not received in time' },
  PRECONDITION_FAILED: { status: 412, title: 'The resource has changed (If-Match did not match)' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  UNPROCESSABLE: { status: 422, title: 'The request cannot be applied' },
  REFERENCE_NOT_FOUND: { status: 422, title: 'A referenced resource does not exist' },
  INVALID_REGION_PARENT: { status: 422, title: 'The parent region is not valid for this region' },
  REGION_LEVEL_MISMATCH: { status: 422, title: 'The level does not match the division code' },
  INVALID_PLAN_PARENT: { status: 422, title: 'The parent plan is not valid for this plan' },
  VALUE_OUT_OF_RANGE: { status: 422, title: 'The value lies outside the indicator\'s range' },
  INDICATOR_RANGE_CONFLICT: { status: 422, title: 'Existing values lie outside the new range' },
  INVALID_VALUE: { status: 422, title: 'The yearly value is not consistent' },
  INDICATOR_NOT_AGGREGABLE: { status: 422, title: 'The indicator cannot be rolled up over regions (aggregation none)' },
  TARGET_OUTSIDE_PLAN: { status: 422, title: 'The target lies outside the plan\'s region or years' },
  KEY_MISMATCH: { status: 422, title: 'The key in the body differs from the key in the path' },
  DUPLICATE_KEY_IN_REQUEST: { status: 422, title: 'Two items of the request have the same key' },
  IMPORT_REJECTED: { status: 422, title: 'The import was refused: some rows are not valid (nothing was written)' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'This Idempotency-Key was used for a different request' },
  TOO_MANY_REQUESTS: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request headers are too large' },
  INTERNAL_ERROR: { status: 500, title: 'Internal server error' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'The database is unavailable; retry later' },
  SERVICE_UNAVAILABLE: { status: 503, title: 'The service is unavailable; retry later' },
  IDEMPOTENCY_KEY_IN_PROGRESS: { status: 503, title: 'An earlier request with this Idempotency-Key is still running; retry later' }
} as const satisfies Record<string, { status: number, title: string }>

export type ErrorCode = keyof typeof catalogue

export interface FieldError {
  /** JSON pointer into the body or query (e.g. `/targets/3/value`), or a parameter name. */
  field?: string
  /** Row number (1-based) in a bulk request. */
  row?: number
  code: string
  message: string
}

export class ApiError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly errors?: FieldError[]
  readonly headers?: Record<string, string>
  /** Extension members of the problem document (RFC 9457 §3.2). */
  readonly extensions?: Record<string, unknown>

  constructor (code: ErrorCode, detail: string, options: { errors?: FieldError[], headers?: Record<string, string>, extensions?: Record<string, unknown> } = {}) {
    super(detail)
    this.name = 'ApiError'
    this.code = code
    this.status = catalogue[code].status
    this.errors = options.errors
    this.headers = options.headers
    this.extensions = options.extensions
  }
}

export function problemType (code: ErrorCode): string {
  return `urn:indicator-registry:problem:${code.toLowerCase().replaceAll('_', '-')}`
}

/** A write that would give a value the natural key of another: names that value (RFC 9110 §15.5.10 suggests pointing at it). */
export function valueExists (id: number): ApiError {
  return new ApiError('VALUE_EXISTS', `Value ${id} already has this region, indicator, period, breakdown (and plan); PATCH /v1/values/${id} to change it.`, {
    headers: { location: `/v1/values/${id}` },
    extensions: { existingId: id }
  })
}

/**
 * The not-found problems of the resources, one wording each, for every module that looks
 * a resource up (a plan's targets name their plan, a value its region, ...).
 */
export const notFound = {
  region: (code: string) => new ApiError('REGION_NOT_FOUND', `No region has code ${code}.`),
  indicator: (code: string) => new ApiError('INDICATOR_NOT_FOUND', `No indicator has code ${code}.`),
  plan: (id: string) => new ApiError('PLAN_NOT_FOUND', `No plan has id ${id}.`),
  value: (id: number) => new ApiError('VALUE_NOT_FOUND', `No yearly value has id ${id}.`),
  token: (id: string) => new ApiError('TOKEN_NOT_FOUND', `No token has id ${id}.`)
}
