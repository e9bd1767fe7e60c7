// How the service logs: where the lines go, the one line per request, and how an error is
// written. Used by the Fastify options (options.ts), the server and the benchmark's bare route.
import { DrizzleQueryError } from 'drizzle-orm'
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import pino from 'pino'
import { rootCause } from './db/errors.ts'

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
export function logDestination (): ReturnType<typeof pino.destination> {
  return pino.destination({ sync: false, minLength: 4096, periodicFlush: 1000 })
}
