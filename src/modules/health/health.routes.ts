import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sendProblem } from '../../plugins/problem-details.ts'
import { ApiError } from '../../lib/errors.ts'
import { problems } from '../../lib/problem.ts'

const Health = Type.Object({
  status: Type.Enum(['ok']),
  database: Type.Optional(Type.Enum(['pg', 'pglite']))
}, { additionalProperties: false, examples: [{ status: 'ok', database: 'pg' }] })

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
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
      description: 'Answers 200 when the database answers and every migration is applied; 503 problem+json otherwise, so a load balancer stops sending traffic.',
      response: { 200: Health, ...problems() }
    }
  }, async (request, reply) => {
    try {
      await app.database.ping()
    } catch {
      return sendProblem(reply, request, new ApiError('DATABASE_UNAVAILABLE', 'The database does not answer.', { headers: { 'retry-after': '2' } }))
    }
    if (!await app.database.migrationsApplied()) {
      return sendProblem(reply, request, new ApiError('SERVICE_UNAVAILABLE', 'Database migrations are not applied yet.', { headers: { 'retry-after': '2' } }))
    }
    return { status: 'ok' as const, database: app.database.driver }
  })
}

export default healthRoutes
