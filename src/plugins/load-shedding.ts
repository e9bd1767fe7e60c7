import underPressure from '@fastify/under-pressure'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'

export interface LoadSheddingOptions {
  /** Shed load (503) when the event loop lags more than this (ms); 0: off. */
  maxEventLoopDelayMs: number
}

export const defaultLoadShedding: LoadSheddingOptions = { maxEventLoopDelayMs: 1000 }

// Liveness and metrics are always answered: an overloaded instance is alive (a restarter
// must not kill it for being busy) and its metrics show why it sheds. Readiness is shed
// like the API, which takes the instance out of rotation.
const UNSHED = new Set(['/health/live', '/metrics'])

/** How often under-pressure measures the event loop's delay (its mean over the interval). */
const SAMPLE_INTERVAL_MS = 1000

/** Overload shedding: while the event loop lags, 503 problem+json with Retry-After. */
export default fp<LoadSheddingOptions>(async (app, opts) => {
  if (opts.maxEventLoopDelayMs === 0) return
  // The first sample after the start measures the start itself: every route's schemas are
  // compiled in one go as the app becomes ready, which holds the event loop for a second or
  // more on a busy machine. That is not overload, so nothing is shed until the samples
  // taken after it are in (two intervals after the app is ready).
  let shedFrom = Infinity
  app.addHook('onReady', (done) => {
    shedFrom = Date.now() + 2 * SAMPLE_INTERVAL_MS
    done()
  })
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    sampleInterval: SAMPLE_INTERVAL_MS,
    retryAfter: 5,
    pressureHandler: async (request, _reply, type) => {
      if (UNSHED.has(request.routeOptions.url ?? '') || Date.now() < shedFrom) return
      throw new ApiError('SERVICE_UNAVAILABLE', `The service is overloaded (${type}); retry shortly.`, { headers: { 'retry-after': '5' } })
    }
  })
}, { name: 'load-shedding', dependencies: ['problem-details'] })
