import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ApiError } from '../lib/errors.ts'

export interface LoadSheddingOptions {
  /** Shed load (503) when the event loop lags more than this (ms); 0: off. */
  maxEventLoopDelayMs: number
}

export const defaultLoadShedding: LoadSheddingOptions = { maxEventLoopDelayMs: 1000 }

// Liveness and metrics are always answered: an overloaded instance is alive (a restarter
// must not kill it for being busy) and its metrics show why it sheds. Readiness is shed
// like the API, which takes the instance out of rotation.
const UNSHED = new Set(['/health/live', '/metrics'])

/** Overload shedding: while the event loop lags, 503 problem+json with Retry-After. */
export default fp<LoadSheddingOptions>(async (app, opts) => {
  if (opts.maxEventLoopDelayMs === 0) return
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    retryAfter: 5,
    pressureHandler: async (request, _reply, type) => {
      if (UNSHED.has(request.routeOptions.url ?? '')) return
      throw new ApiError('SERVICE_UNAVAILABLE', `The service is overloaded (${type}); retry shortly.`, { headers: { 'retry-after': '5' } })
    }
  })
}, { name: 'load-shedding', dependencies: ['problem-details'] })
