import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { decodeCursor, pageOf } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { NO_CONTENT } from '../../lib/routes.ts'
import { writeContext } from '../../lib/write-context.ts'
import { createTokensRepository, type TokenRow } from './tokens.repository.ts'
import { CreatedToken, TokenCreate, TokenListQuery, TokenPage, TokenParams } from './tokens.schemas.ts'

const tags = ['tokens']
const admin = { access: 'admin' as const }
const publicView = ({ secretHash: _hidden, ...rest }: TokenRow) => rest

const tokensRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/tokens', {
    config: admin,
    schema: {
      tags,
      operationId: 'listTokens',
      summary: 'List access tokens (admin)',
      description: 'Every token, revoked ones included, without secrets.',
      querystring: TokenListQuery,
      response: { 200: TokenPage, ...problems(400) }
    }
  }, async (request) => {
    const { limit = 100, cursor } = request.query
    const after = decodeCursor(cursor, ['string'])?.[0] as string | undefined
    const page = pageOf(await createTokensRepository(request.readDb).list(after, limit), limit, (r) => [r.id])
    return { items: page.items.map(publicView), nextCursor: page.nextCursor }
  })

  app.post('/tokens', {
    config: admin,
    schema: {
      tags,
      operationId: 'createToken',
      summary: 'Create an access token (admin)',
      description: 'Creates a `reader`, `editor` (scoped to `regionCode` and the regions below it) or `admin` token. The secret is in this answer only; store it safely. Send it as `Authorization: Bearer <token>`.',
      body: TokenCreate,
      response: { 201: CreatedToken, ...problems(400, 415, 422) }
    }
  }, async (request, reply) => {
    const { row, token } = await app.tokens.create(writeContext(request), request.body)
    reply.header('location', `/v1/tokens/${row.id}`)
    return reply.code(201).send({ ...publicView(row), token })
  })

  app.delete('/tokens/:id', {
    config: admin,
    schema: {
      tags,
      operationId: 'revokeToken',
      summary: 'Revoke an access token (admin)',
      description: 'The token stops working at once. It stays listed (with `revokedAt`) so history can still name it.',
      params: TokenParams,
      response: { ...NO_CONTENT, ...problems(400, 404) }
    }
  }, async (request, reply) => {
    await app.tokens.revoke(writeContext(request), request.params.id)
    return reply.code(204).send(null)
  })
}

export default tokensRoutes
