import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'

export interface RateLimitOptions {
  /** Requests per client per window; 0 turns rate limiting off. */
  max: number
  windowMs: number
  /** Client addresses never rate limited (e.g. the monitoring host, loopback). */
  allow: string[]
}

export const defaultRateLimit: RateLimitOptions = {
  max: 1200,
  windowMs: 60_000,
  allow: ['127.0.0.1', '::1', '::ffff:127.0.0.1']
}

/** Per-client rate limiting: past the limit, 429 problem+json with Retry-After. */
export default fp<RateLimitOptions>(async (app, opts) => {
  if (opts.max === 0) return
  await app.register(rateLimit, {
    global: true,
    max: opts.max,
    timeWindow: opts.windowMs,
    // Compared with the client's address (the bucket key may be its token instead).
    allowList: (request) => opts.allow.includes(request.ip),
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
}, { name: 'rate-limit', dependencies: ['problem-details'] })
