import { randomUUID } from 'node:crypto'
import type { FastifyServerOptions } from 'fastify'
import type { DestinationStream } from 'pino'
import { trustProxyOf, type Config } from './config.ts'
import { clientErrorHandler, frameworkErrors } from './errors/mapping.ts'
import { RequestLogController, serializeError } from './logging.ts'

/**
 * Fastify options shared by the server and the tests, so tests never run with another
 * validator, logger shape or limits than production.
 */
export function buildOptions (config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT'> & Partial<Pick<Config, 'REQUEST_TIMEOUT_MS' | 'CONNECTION_TIMEOUT_MS' | 'TRUST_PROXY'>>, stream?: DestinationStream): FastifyServerOptions {
  return {
    // No headers are logged (Fastify's request serializer writes method, URL, host and
    // remote address), so there is no token to redact: test/logging.test.ts checks it, and
    // no redact list walks every line for nothing. Without a stream, pino writes to stdout.
    logger: { level: config.LOG_LEVEL, serializers: { err: serializeError }, ...(stream !== undefined ? { stream } : {}) },
    // Honour a caller's X-Request-Id (sync jobs correlate with it); otherwise make one.
    requestIdHeader: 'x-request-id',
    logController: new RequestLogController(),
    genReqId: () => randomUUID(),
    bodyLimit: config.BODY_LIMIT,
    requestTimeout: config.REQUEST_TIMEOUT_MS ?? 120_000,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS ?? 130_000,
    trustProxy: (config.TRUST_PROXY !== undefined ? trustProxyOf({ TRUST_PROXY: config.TRUST_PROXY }) : false) as FastifyServerOptions['trustProxy'],
    // Route params such as /v1/regions/:code are short; longer ones are rejected early.
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    // Router errors (bad percent-encoding, over-long parameters) as problem+json too.
    frameworkErrors,
    clientErrorHandler,
    // Requests that arrive while closing are answered by the draining plugin (problem+json).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }
}
