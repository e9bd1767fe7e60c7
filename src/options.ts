import { randomUUID } from 'node:crypto'
import { LogController, type FastifyServerOptions } from 'fastify'
import type { Config } from './config.ts'
import { frameworkErrors } from './plugins/problem-details.ts'

/**
 * Fastify options shared by the server and the tests, so tests never run with another
 * validator, logger shape or limits than production.
 */
export function buildOptions (config: Pick<Config, 'LOG_LEVEL' | 'BODY_LIMIT'>): FastifyServerOptions {
  return {
    logger: {
      level: config.LOG_LEVEL,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' }
    },
    // Honour a caller's X-Request-Id (sync jobs correlate with it); otherwise make one.
    requestIdHeader: 'x-request-id',
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: () => randomUUID(),
    bodyLimit: config.BODY_LIMIT,
    // Route params such as /v1/regions/:code are short; longer ones are rejected early.
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: true },
    // Router errors (bad percent-encoding, over-long parameters) as problem+json too.
    frameworkErrors,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } }
  }
}
