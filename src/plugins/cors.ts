import cors from '@fastify/cors'
import fp from 'fastify-plugin'

export interface CorsOptions {
  /** Allowed origins (`*`: any); empty: no CORS headers (browsers on other origins are refused). */
  origins: string[]
}

export const defaultCors: CorsOptions = { origins: [] }

/** CORS for the browsers of the configured origins, with the headers the API reads and sends. */
export default fp<CorsOptions>(async (app, opts) => {
  if (opts.origins.length === 0) return
  await app.register(cors, {
    origin: opts.origins.includes('*') ? true : opts.origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'if-match', 'if-none-match', 'idempotency-key', 'x-request-id', 'commit-position'],
    exposedHeaders: ['etag', 'location', 'retry-after', 'x-request-id', 'idempotent-replayed', 'commit-position', 'served-by']
  })
}, { name: 'cors' })
