import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'
import { sendProblem } from '../errors/problem.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Stops taking new work: from now on every request that arrives is answered 503 and its
     * connection closed, while requests already inside complete. Closing the app drains.
     */
    drain: () => void
  }
}

/**
 * Draining on shutdown. After SIGTERM the listening socket closes, but a client on a
 * keep-alive connection opened before may still send a request: it gets a 503 problem+json
 * with Retry-After and `connection: close` (so it reconnects, to another instance or to the
 * next start of this one), and nothing else (auth, the database) runs for it. Fastify's own
 * answer while closing (`return503OnClosing`) is plain JSON, hence this plugin.
 */
export default fp(async (app) => {
  let draining = false
  app.decorate('drain', () => { draining = true })
  app.addHook('preClose', (done) => {
    draining = true
    done()
  })
  // A callback hook: it runs on every request; answering without calling done() ends it.
  app.addHook('onRequest', (request, reply, done) => {
    if (!draining) return done()
    reply.header('connection', 'close')
    sendProblem(reply, request, new ApiError('SERVICE_UNAVAILABLE', 'The service is shutting down; retry the request.', { headers: { 'retry-after': '1' } }))
  })
}, { name: 'draining', dependencies: ['problem-details'] })
