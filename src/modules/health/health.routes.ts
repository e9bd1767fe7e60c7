import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sendProblem } from '../../errors/problem.ts'
import { ApiError } from '../../errors/catalogue.ts'
import { problems } from '../../errors/problem.ts'

const Replica = Type.Object({
  name: Type.String({ description: '`replica-<n>`: the n-th connection string of DATABASE_READ_URL (the start-up log names its server)' }),
  status: Type.Enum(['usable', 'unchecked', 'down', 'lagging', 'not-a-standby'], {
    description: '`usable`: reads go to it; `unchecked`: not checked yet; `down`: it did not answer its last check, or a read failed on it since (its reads went to the primary); `lagging`: further behind the primary than REPLICA_MAX_LAG_MS or REPLICA_MAX_LAG_BYTES; `not-a-standby`: it answers but is not replaying a primary'
  }),
  up: Type.Boolean({ description: 'It answered its last check' }),
  usable: Type.Boolean({ description: 'Reads may go to it' }),
  replayPosition: Type.Union([Type.String(), Type.Null()], { description: 'The WAL position it had replayed (pg_last_wal_replay_lsn()), comparable with Commit-Position', examples: ['0/3016060'] }),
  lagBytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'WAL bytes the primary had flushed and it had not replayed' }),
  lagSeconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'Since when the primary has held WAL it had not replayed (0: caught up), measured at the check interval' }),
  lastReplayedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Commit time of the last transaction it replayed' }),
  checkedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When it last answered a check' })
}, { additionalProperties: false })

const Health = Type.Object({
  status: Type.Enum(['ok']),
  database: Type.Optional(Type.Enum(['pg', 'pglite'])),
  redis: Type.Optional(Type.Enum(['connected', 'unreachable'], {
    description: 'With REDIS_URL only: whether the shared rate-limit store answers. Unreachable does not make the instance unready: requests are then let through without a rate limit.'
  })),
  replicas: Type.Optional(Type.Array(Replica, {
    description: 'With DATABASE_READ_URL: the state of each read replica at its last check. A replica down or lagging does not make the service unready (the primary answers its reads); it is reported here and in /metrics.'
  }))
}, {
  additionalProperties: false,
  examples: [
    { status: 'ok', database: 'pg' },
    { status: 'ok', database: 'pg', redis: 'connected' },
    { status: 'ok', database: 'pg', replicas: [{ name: 'replica-1', status: 'usable', up: true, usable: true, replayPosition: '0/3016060', lagBytes: 0, lagSeconds: 0, lastReplayedAt: '2026-11-25T13:21:17.123Z', checkedAt: '2026-11-25T13:21:18.004Z' }] }
  ]
})

/**
 * A probe answers fast or not at all: a database that takes longer than this to answer
 * (frozen, or no connection to be had) is away, so readiness answers 503 instead of
 * hanging until the prober gives up.
 */
const READY_TIMEOUT_MS = 2000

function within<T> (work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error('readiness check timed out')), ms) })
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // One database check at a time: probes arriving while one still waits on a frozen
  // database share it instead of each holding a pool connection.
  let checking: Promise<boolean> | undefined
  const check = () => {
    checking ??= (async () => {
      await app.database.ping()
      return app.database.migrationsApplied()
    })().finally(() => { checking = undefined })
    return checking
  }

  app.get('/health/live', {
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      operationId: 'live',
      summary: 'Liveness probe',
      description: 'Answers 200 while the process serves HTTP; it does not touch the database.',
      response: { 200: Health }
    }
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      operationId: 'ready',
      summary: 'Readiness probe',
      description: `Answers 200 when the database answers and every migration is applied; 503 problem+json otherwise (also when the database takes more than ${READY_TIMEOUT_MS / 1000} s to answer), so a load balancer stops sending traffic. With read replicas (DATABASE_READ_URL) the answer lists each one's state, lag and replay position from its last check; replicas are not asked again here, and one that is down or lagging leaves the service ready, since the primary serves its reads. With \`REDIS_URL\` set, \`redis\` tells whether the shared rate-limit store answers; an unreachable Redis leaves the instance ready (requests are then not rate limited).`,
      response: { 200: Health, ...problems() }
    }
  }, async (request, reply) => {
    let migrated: boolean
    try {
      migrated = await within(check(), READY_TIMEOUT_MS)
    } catch {
      return sendProblem(reply, request, new ApiError('DATABASE_UNAVAILABLE', 'The database does not answer.', { headers: { 'retry-after': '2' } }))
    }
    if (!migrated) {
      return sendProblem(reply, request, new ApiError('SERVICE_UNAVAILABLE', 'Database migrations are not applied yet.', { headers: { 'retry-after': '2' } }))
    }
    const replicas = app.database.readRouter?.states()
    const store = app.rateLimitStore
    return {
      status: 'ok' as const,
      database: app.database.driver,
      ...(store.kind === 'redis' ? { redis: store.connected() ? 'connected' as const : 'unreachable' as const } : {}),
      ...(replicas !== undefined ? { replicas } : {})
    }
  })
}

export default healthRoutes
