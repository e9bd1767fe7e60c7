import type { FastifyReply, FastifyRequest } from 'fastify'
import pino from 'pino'

// pino.symbols: what pino exposes of its loggers' state for integrations (msgPrefixSym is
// missing from its type declarations).
const symbols = pino.symbols as typeof pino.symbols & { readonly msgPrefixSym: symbol }
const INFO = 30
const MESSAGE = 'request completed'

const { lsCacheSym, timeSym, chindingsSym, endSym, messageKeySym, streamSym, mixinSym, formattersSym, msgPrefixSym, needsMetadataGsym } = symbols

/** Set when the logger or its destination needs pino's own path to write a line. */
function special (log: Record<symbol, any>): boolean {
  return log[mixinSym] !== undefined || log[formattersSym]?.log !== undefined ||
    log[msgPrefixSym] !== undefined || log[streamSym]?.[needsMetadataGsym] === true
}

const json = JSON.stringify

/**
 * Writes the one log line of an answered request, at `info`: the line pino writes for
 * `request.log.info({ req: request, res: reply, responseTime }, 'request completed')` with
 * Fastify's `req` and `res` serializers (test/request-log.test.ts compares the two, byte for
 * byte), put together directly from the logger's own level, time, bindings and ending.
 *
 * Why (issue #7, read path): the line is written for every request, and pino's general path
 * for it (a serializer object per key, `JSON.stringify` of each, a generic loop over the
 * keys, the rest-argument arrays of the log method and its hook) cost about 3% of the point
 * read's throughput under load; what the line costs now is the kernel writing its bytes
 * (bench/README.md, session 8). The response time is rounded to the microsecond (pino would
 * print 17 significant digits).
 *
 * Loggers configured in ways this does not reproduce (a `mixin`, `formatters.log`, a
 * message prefix, a destination that wants pino's metadata such as pino.multistream) get the
 * ordinary pino call.
 */
export function logRequest (request: FastifyRequest, reply: FastifyReply): void {
  const logger = request.log as unknown as pino.Logger
  if (!logger.isLevelEnabled('info')) return
  const responseTime = Math.round(reply.elapsedTime * 1000) / 1000
  // pino's state, read through the symbols it exposes (one line from the logger's own parts).
  const log = logger as unknown as Record<symbol, any>
  if (special(log)) {
    logger.info({ req: request, res: reply, responseTime }, MESSAGE)
    return
  }
  const version = request.headers['accept-version']
  const host = request.host
  const ip = request.ip
  const port = request.socket?.remotePort
  log[streamSym].write(
    log[lsCacheSym][INFO] + log[timeSym]() + log[chindingsSym] +
    ',"req":{"method":' + json(request.method) + ',"url":' + json(request.url) +
    (version !== undefined ? ',"version":' + json(version) : '') +
    (host !== undefined ? ',"host":' + json(host) : '') +
    (ip !== undefined ? ',"remoteAddress":' + json(ip) : '') +
    (port !== undefined ? ',"remotePort":' + port : '') +
    '},"res":{"statusCode":' + reply.statusCode + '},"responseTime":' + responseTime +
    ',' + json(log[messageKeySym]) + ':"' + MESSAGE + '"' + log[endSym]
  )
}
