import rateLimit from '@fastify/rate-limit'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'
import { connectRedis } from '../lib/redis.ts'

export interface RateLimitOptions {
  /** Requests per client per window; 0 turns rate limiting off. */
  max: number
  windowMs: number
  /** Client addresses never rate limited (e.g. the monitoring host, loopback). */
  allow: string[]
  /**
   * Counters in Redis, shared by every instance using it (REDIS_URL; keys start with
   * `prefix`). Absent: each process counts on its own.
   */
  redis?: { url: string, prefix: string }
}

/** Where the rate-limit counters live, for the metrics and the readiness probe. */
export interface RateLimitStore {
  /** `redis`: one count for all instances; `process`: this process's own; `off`: no limit. */
  kind: 'redis' | 'process' | 'off'
  /** `redis` only: false while Redis is unreachable, when requests are let through unlimited. */
  connected: () => boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    rateLimitStore: RateLimitStore
  }
}

export const defaultRateLimit: RateLimitOptions = {
  max: 1200,
  windowMs: 60_000,
  allow: ['127.0.0.1', '::1', '::ffff:127.0.0.1']
}

/**
 * Per-client rate limiting: past the limit, 429 problem+json with Retry-After. With Redis
 * the limit holds across instances; while Redis is unreachable requests are not limited
 * (fail open, @fastify/rate-limit's skipOnError): a limit guards against a runaway client,
 * and refusing every agency's sync because the counter store is away would be the worse
 * outage. The outage is logged and shown by `rate_limit_redis_connected` and readiness.
 */
export default fp<RateLimitOptions>(async (app, opts) => {
  if (opts.max === 0) {
    app.decorate('rateLimitStore', { kind: 'off', connected: () => false } satisfies RateLimitStore)
    return
  }
  const redis = opts.redis !== undefined ? await connectRedis(opts.redis.url, app.log) : undefined
  app.decorate('rateLimitStore', { kind: redis !== undefined ? 'redis' : 'process', connected: redis?.connected ?? (() => false) } satisfies RateLimitStore)
  if (redis !== undefined) app.addHook('onClose', () => redis.close())

  await app.register(rateLimit, {
    global: true,
    max: opts.max,
    timeWindow: opts.windowMs,
    ...(redis !== undefined ? { redis: redis.client, nameSpace: `${opts.redis!.prefix}rate-limit:`, skipOnError: true } : {}),
    // Compared with the client's address (the bucket key may be its token instead).
    allowList: (request) => opts.allow.includes(request.ip),
    // One bucket per token when one is sent (an agency's sync job), else per address.
    keyGenerator: (request) => {
      const auth = request.headers.authorization
      const id = typeof auth === 'string' ? /^Bearer irt_([0-9a-f]{12})_/i.exec(auth)?.[1] : undefined
      return id !== undefined ? `token:${id}` : `ip:${request.ip}`
    },
    errorResponseBuilder: (_request, context) => new ApiError('TOO_MANY_REQUESTS',
      `At most ${context.max} requests per ${Math.round(opts.windowMs / 1000)} s; retry after ${context.after}.`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) }
      })
  })
}, { name: 'rate-limit', dependencies: ['problem-details'] })
