import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import underPressure from '@fastify/under-pressure'
import helmet from 'helmet'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'

export interface HardeningOptions {
  /** Requests per client per window; 0 turns rate limiting off. */
  rateLimitMax: number
  rateLimitWindowMs: number
  /** Client addresses never rate limited (e.g. the monitoring host, loopback). */
  rateLimitAllow: string[]
  /** Allowed CORS origins; empty: no CORS headers (browsers on other origins are refused). */
  corsOrigins: string[]
  /** Shed load (503) when the event loop lags more than this (ms); 0: off. */
  maxEventLoopDelayMs: number
}

export const defaultHardening: HardeningOptions = {
  rateLimitMax: 1200,
  rateLimitWindowMs: 60_000,
  rateLimitAllow: ['127.0.0.1', '::1', '::ffff:127.0.0.1'],
  corsOrigins: [],
  maxEventLoopDelayMs: 1000
}

// A NUL cannot be stored in PostgreSQL text, and a lone surrogate is not valid Unicode:
// both are refused at the door rather than failing deep in the database.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const UNSHED = new Set(['/health/live', '/metrics'])

/** A JSON text that may hold a NUL or a surrogate: `\u0000` or `\uD800`-`\uDFFF` escapes. */
const SUSPECT_JSON = /\\u(?:0000|[dD][89a-fA-F])/

type ContentTypeParser = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => void

const badText = (where: string) => new ApiError('VALIDATION_FAILED', 'Text may not contain NUL characters or unpaired surrogates.', {
  errors: [{ field: where, code: 'text', message: 'contains a NUL character or an unpaired surrogate' }]
})

function findBadText (value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return BAD_TEXT.test(value) ? path : undefined
  if (depth > 64 || value === null || typeof value !== 'object') return undefined
  // Only parsed data is walked: a CSV body arrives as a stream (its rows are validated).
  if (typeof (value as { pipe?: unknown }).pipe === 'function' || Buffer.isBuffer(value)) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadText(value[i], `${path}/${i}`, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, v] of Object.entries(value)) {
    if (BAD_TEXT.test(key)) return `${path}/${key}`
    const found = findBadText(v, `${path}/${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The security headers an API that answers JSON sends on every response, as OWASP's REST
 * Security Cheat Sheet lists them: a Content-Security-Policy that allows nothing and no
 * framing, HSTS, nosniff, X-Frame-Options DENY, and Cross-Origin-Resource-Policy (no other
 * site may load a response as a script or an image). Helmet's headers that only act on an
 * HTML page a browser renders (Referrer-Policy, X-DNS-Prefetch-Control, X-Download-Options,
 * Origin-Agent-Cluster, X-Permitted-Cross-Domain-Policies, X-XSS-Protection and the
 * cross-origin opener and embedder policies) are off: they did nothing for a JSON answer and
 * were seven headers, some 220 bytes, on every response, which the service, the kernel and
 * the client all handle (issue #7, read path: about 3% of the point read's throughput under
 * load, bench/README.md). The Swagger UI's pages set their own policy (staticCSP in the
 * openapi plugin).
 */
const API_HEADERS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false
} as const satisfies Parameters<typeof helmet>[0]

/** The headers helmet's middleware sets (with this configuration they never vary by request). */
export function securityHeaders (): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader (name: string, value: unknown) { headers[name.toLowerCase()] = String(value) },
    removeHeader (name: string) { delete headers[name.toLowerCase()] }
  }
  let done = false
  helmet(API_HEADERS)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err !== undefined) throw err
    done = true
  })
  if (!done) throw new Error('helmet did not finish synchronously')
  return headers
}

/**
 * Security headers (helmet), CORS, per-client rate limiting (429 + Retry-After), overload
 * shedding (503 + Retry-After) and refusal of text PostgreSQL cannot store, all answered
 * as problem+json.
 */
export default fp<HardeningOptions>(async (app, opts) => {
  // The security headers (API_HEADERS) on every answer, errors included. They never vary,
  // so helmet works them out once and each reply gets them through Fastify (issue #7, read
  // path: running helmet's middleware on every request set them on Node's response one by
  // one, which also took Node's writeHead off its fast path: some 20% of a point read's CPU).
  const headers = securityHeaders()
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })

  if (opts.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: opts.corsOrigins.includes('*') ? true : opts.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id', 'idempotent-replayed']
    })
  }

  if (opts.rateLimitMax > 0) {
    await app.register(rateLimit, {
      global: true,
      max: opts.rateLimitMax,
      timeWindow: opts.rateLimitWindowMs,
      // Compared with the client's address (the bucket key may be its token instead).
      allowList: (request) => opts.rateLimitAllow.includes(request.ip),
      // One bucket per token when one is sent (an agency's sync job), else per address.
      keyGenerator: (request) => {
        const auth = request.headers.authorization
        const id = typeof auth === 'string' ? /^Bearer irt_([0-9a-f]{12})_/i.exec(auth)?.[1] : undefined
        return id !== undefined ? `token:${id}` : `ip:${request.ip}`
      },
      errorResponseBuilder: (_request, context) => new ApiError('TOO_MANY_REQUESTS',
        `At most ${context.max} requests per ${Math.round(context.ttl / 1000)} s; retry after ${context.after}.`, {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) }
        })
    })
  }

  if (opts.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: opts.maxEventLoopDelayMs,
      retryAfter: 5,
      // Liveness and metrics are always answered: an overloaded instance is alive (a
      // restarter must not kill it for being busy) and its metrics show why it sheds.
      // Readiness is shed like the API, which takes the instance out of rotation.
      pressureHandler: async (request, _reply, type) => {
        if (UNSHED.has(request.routeOptions.url ?? '')) return
        throw new ApiError('SERVICE_UNAVAILABLE', `The service is overloaded (${type}); retry shortly.`, { headers: { 'retry-after': '5' } })
      }
    })
  }

  // JSON bodies (and merge patches) are checked as they are parsed. In JSON text a NUL or a
  // lone surrogate can only arrive as a \u escape (raw control characters are invalid and
  // malformed UTF-8 decodes to U+FFFD), so the parsed body is walked only when the text
  // holds such an escape: a 5,000-row import is not walked string by string.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const checkedJson: ContentTypeParser = (request, text, done) => {
    parseJson(request, text as string, (err, body) => {
      if (err !== null) return done(err, undefined)
      const where = SUSPECT_JSON.test(text as string) ? findBadText(body, '/body') : undefined
      if (where !== undefined) return done(badText(where), undefined)
      done(null, body)
    })
  }
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, checkedJson)
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, checkedJson)

  // A callback hook, not an async one: it runs on every request (issue #7, read path).
  app.addHook('preValidation', (request, _reply, done) => {
    const where = findBadText(request.query, '/query') ?? findBadText(request.params, '/path')
    done(where !== undefined ? badText(where) : undefined)
  })
}, { name: 'hardening', dependencies: ['problem-details'] })
