import type { FastifyError } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'
import { toApiError } from '../errors/mapping.ts'
import { pathOf, ProblemSchema, sendProblem } from '../errors/problem.ts'

/** Every error and unknown route answered as RFC 9457 problem details (src/errors/). */
export default fp(async (app) => {
  app.addSchema(ProblemSchema)

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const problem = toApiError(err, request)
    if (problem.status >= 500) {
      // The problem's code and the operation; the error goes through the logger's error
      // serializer (src/logging.ts), which keeps a failed query's driver error, never its SQL.
      request.log.error({ code: problem.code, operation: `${request.method} ${request.routeOptions.url ?? pathOf(request.url)}`, err }, 'request failed')
    } else {
      request.log.info({ code: problem.code }, 'request rejected')
    }
    return sendProblem(reply, request, problem)
  })

  app.setNotFoundHandler((request, reply) => {
    return sendProblem(reply, request, new ApiError('ROUTE_NOT_FOUND', `No route serves ${request.method} ${pathOf(request.url)}.`))
  })
}, { name: 'problem-details' })
