import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../db/client.ts'
import type { ReadChoice } from '../db/read-router.ts'
import { parseLsn } from '../db/wal-position.ts'
import { ApiError } from '../errors/catalogue.ts'
import { sendProblem } from '../errors/problem.ts'

/** Sent on every write answer, and sent back by a read that must see that write. */
export const COMMIT_POSITION = 'commit-position'
/** Which server answered a read. */
export const SERVED_BY = 'served-by'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The database for this request's reads: for a safe API request (GET, HEAD under /v1)
     * the server chosen by the read router (a replica that has replayed the client's
     * Commit-Position, else the primary); the primary for every other request.
     */
    readDb: Db
    /** The read router's choice for a safe API request, else null. */
    readChoice: ReadChoice | null
  }
}

const SAFE = new Set(['GET', 'HEAD'])
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** Write answers that carry the position: the writes that committed, and the conflicts whose answer names stored state. */
const positioned = (status: number) => (status >= 200 && status < 300) || status === 409 || status === 412

const isApi = (request: FastifyRequest) => request.routeOptions.url?.startsWith('/v1/') === true

/**
 * Read-your-writes across replicas and instances. Every write answer carries the
 * primary's WAL position after the write committed (`Commit-Position`); a safe API read
 * that sends it back is given, as `request.readDb`, a replica only once that replica has
 * replayed that far, else the primary. Decided at onRequest, so every later hook and the
 * handler read through the same server. Without replicas (the embedded database, or
 * PostgreSQL without DATABASE_READ_URL) reads go to the primary and the header is still
 * checked and answered, so clients need not know how the service is deployed.
 */
export default fp(async (app) => {
  const { db, readRouter } = app.database
  const primary: ReadChoice = { db, server: 'primary', answeredBy: () => 'primary' }
  app.decorateRequest('readDb', null as unknown as Db)
  app.decorateRequest('readChoice', null)

  app.addHook('onRequest', (request, reply, done) => {
    if (!SAFE.has(request.method) || !isApi(request)) {
      request.readDb = db
      return done()
    }
    const sent = request.headers[COMMIT_POSITION]
    let position: bigint | undefined
    if (sent !== undefined) {
      position = typeof sent === 'string' ? parseLsn(sent) : undefined
      if (position === undefined) {
        return sendProblem(reply, request, new ApiError('VALIDATION_FAILED', 'The Commit-Position header is not a WAL position: send back the Commit-Position of a write answer as it came (e.g. 16/B374D848).', {
          errors: [{ field: `/header/${COMMIT_POSITION}`, code: 'pattern', message: 'must be two hexadecimal numbers separated by a slash, as in 16/B374D848' }]
        }))
      }
    }
    const choice = readRouter?.choose(position) ?? primary
    request.readChoice = choice
    request.readDb = choice.db
    done()
  })

  // A write's position is asked of the primary once its handler has finished, when every
  // transaction it ran has committed: one short query per write answer. A failure there
  // cannot undo the write; the answer goes without the header.
  const withPosition = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      reply.header(COMMIT_POSITION, await app.database.commitPosition())
    } catch (err) {
      request.log.warn({ err: { message: (err as Error).message } }, 'the commit position could not be read: the write answer goes without it')
    }
  }

  app.addHook('onSend', (request, reply, payload, done) => {
    // (`!= null`: a request of a context made before this plugin lacks the decoration.)
    if (request.readChoice != null) {
      reply.header(SERVED_BY, request.readChoice.answeredBy())
      return done(null, payload)
    }
    if (!WRITES.has(request.method) || !positioned(reply.statusCode)) return done(null, payload)
    withPosition(request, reply).then(() => done(null, payload), done)
  })
}, { name: 'read-routing', dependencies: ['database', 'problem-details'] })
