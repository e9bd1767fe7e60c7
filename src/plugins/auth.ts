import fp from 'fastify-plugin'
import { ApiError } from '../lib/errors.ts'
import { createTokensService, type Principal, type TokensService } from '../modules/tokens/tokens.service.ts'
import { sendProblem } from './problem-details.ts'

/** Who may call a route: anyone, any token holder, an editor (or admin), or an admin. */
export type Access = 'public' | 'read' | 'editor' | 'admin'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token of the request, or null when it carries none. */
    principal: Principal | null
  }
  interface FastifyContextConfig {
    /** Default: `read` for GET/HEAD, `admin` for every other method (fail-safe). */
    access?: Access
  }
  interface FastifyInstance {
    tokens: TokensService
  }
}

export interface AuthOptions {
  /** Reads need a token too (READS_REQUIRE_TOKEN). */
  readsRequireToken: boolean
  /** TOKEN_PEPPER; when absent a pepper is generated and kept in the database. */
  pepper?: string
}

const PUBLIC_PREFIXES = ['/health/', '/docs', '/openapi.json']

/**
 * Bearer-token access control (RFC 6750). Runs at onRequest, before any body is read, so
 * an unauthenticated bulk upload is refused without parsing it. Scope (an editor's region)
 * is enforced by the services, which know which regions a write touches.
 */
export default fp<AuthOptions>(async (app, opts) => {
  const tokens = createTokensService(app.db, { pepper: opts.pepper })
  app.decorate('tokens', tokens)
  app.decorateRequest('principal', null)

  const challenge = (error?: string) => ({
    'www-authenticate': `Bearer realm="indicator-registry"${error !== undefined ? `, error="${error}"` : ''}`
  })

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? ''
    const configured = request.routeOptions.config?.access
    const access: Access = PUBLIC_PREFIXES.some((p) => path.startsWith(p))
      ? 'public'
      : configured ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin')

    // Probes, docs and the API description ignore credentials: a stale header on a load
    // balancer's probe must not fail it.
    if (access === 'public') return
    const header = request.headers.authorization
    if (header !== undefined) {
      const match = /^Bearer ([^\s]+)$/i.exec(header)
      const principal = match !== null ? await tokens.verify(match[1]!) : undefined
      if (principal === undefined) {
        return sendProblem(reply, request, new ApiError('UNAUTHENTICATED', 'The bearer token is not valid (unknown, revoked, expired or malformed).', { headers: challenge('invalid_token') }))
      }
      request.principal = principal
    }
    const principal = request.principal
    if (access === 'read' && !opts.readsRequireToken) return
    if (principal === null) {
      return sendProblem(reply, request, new ApiError('UNAUTHENTICATED', access === 'read' ? 'Reads require a token on this server.' : `${request.method === 'GET' || request.method === 'HEAD' ? 'This resource requires' : 'Writes require'} a bearer token (Authorization: Bearer <token>).`, { headers: challenge() }))
    }
    if ((access === 'admin' && principal.role !== 'admin') || (access === 'editor' && principal.role === 'reader')) {
      return sendProblem(reply, request, new ApiError('FORBIDDEN', `This needs a${access === 'admin' ? 'n admin' : 'n editor or admin'} token; this one is ${principal.role === 'editor' ? 'an' : 'a'} ${principal.role} token.`))
    }
  })
}, { name: 'auth', dependencies: ['database', 'problem-details'] })
