import { randomUUID } from 'node:crypto'
import { LogController, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { DrizzleQueryError } from 'drizzle-orm'
import pino, { type DestinationStream } from 'pino'
import { trustProxyOf, type Config } from './config.ts'
import { rootCause } from './db/errors.ts'
import { clientErrorHandler, frameworkErrors } from './plugins/problem-details.ts'

/**
 * An error in a log line as pino writes it, except a failed query: drizzle puts the statement
 * and its parameters (a request's data) in its error's message and stack, so for it the line
 * keeps what the driver said (SQLSTATE, message, constraint, table) and where the query was
 * run from, never the SQL.
 */
export function serializeError (err: Error): { type: string, message: string, stack: string, [key: string]: unknown } {
  if (!(err instanceof DrizzleQueryError)) return pino.stdSerializers.err(err)
  const cause = rootCause(err) as Partial<Record<'code' | 'message' | 'severity' | 'constraint' | 'table' | 'column', string>> & object
  const driver: Record<string, string> = {}
  for (const key of ['code', 'message', 'severity', 'constraint', 'table', 'column'] as const) {
    if (typeof cause[key] === 'string') driver[key] = cause[key]
  }
  return {
    type: err.name,
    message: 'Failed query',
    stack: (err.stack ?? '').split('\n').filter((line) => line.startsWith('    at ')).join('\n'),
    ...(cause !== err ? { cause: { type: cause.constructor.name, ...driver } } : {})
  }
}

/**
 * One log line per request, once it is answered, with the request and the outcome: Fastify's
 * own completion line with the request added, and no line on arrival (Fastify's default
 * writes both). Routes whose logLevel is above info (probes, /metrics) write none.
 */
export class RequestLogController extends LogController {
  constructor () {
    super({ requestIdLogLabel: 'requestId' })
  }

  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored')
    } else {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed')
    }
  }
}

/**
 * Where the service's log lines go: stdout, through pino's asynchronous destination as
 * pino's documentation sets it up (sonic-boom). Lines are written in blocks of about 4 KB
 * off the request path, and at the latest after a second when it is quiet. What is held is
 * written before the process exits: `destination.flush(cb)` on shutdown (src/server.ts),
 * pino's own exit handler otherwise; only a SIGKILL loses up to a second of lines.
 */
export function logDestination (): pino.DestinationStream & { flush: (cb: (err?: Error) => void) => void } {
  return pino.destination({ sync: false, minLength: 4096, periodicFlush: 1000 })
}

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
