import { randomUUID } from 'node:crypto'
import { LogController, type FastifyServerOptions } from 'fastify'
import { trustProxyOf, type Config } from './config.ts'
import { clientErrorHandler, frameworkErrors } from './plugins/problem-details.ts'

/**
 * Fastify options shared by the server and the tests, so tests never run with another
 * validator, logger shape or limits than production.
 */
export function buildOptions (config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT'> & Partial<Pick<Config, 'REQUEST_TIMEOUT_MS' | 'CONNECTION_TIMEOUT_MS' | 'TRUST_PROXY'>>): FastifyServerOptions {
  return {
    // No headers are logged (Fastify's request serializer writes method, URL, host and
    // remote address), so there is no token to redact: test/logging.test.ts checks it. A
    // redact list walked every line for nothing (issue #7, read path).
    logger: { level: config.LOG_LEVEL },
    // Honour a caller's X-Request-Id (sync jobs correlate with it); otherwise make one.
    requestIdHeader: 'x-request-id',
    // One log line per request instead of two: written by the onResponse hook in app.ts.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
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
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }
}
