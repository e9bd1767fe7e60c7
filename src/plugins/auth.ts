import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'
import { createTokensService, type Principal, type TokensService } from '../modules/tokens/tokens.service.ts'
import { sendProblem } from '../errors/problem.ts'

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

  const accessOf = (request: FastifyRequest): Access => {
    const path = request.url.split('?')[0] ?? ''
    const configured = request.routeOptions.config?.access
    return PUBLIC_PREFIXES.some((p) => path.startsWith(p))
      ? 'public'
      : configured ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'admin')
  }

  /** Verifies the request's token against the route's access: true when it answered 401/403. */
  const refused = async (request: FastifyRequest, reply: FastifyReply, access: Exclude<Access, 'public'>): Promise<boolean> => {
    const header = request.headers.authorization
    if (header !== undefined) {
      const match = /^Bearer ([^\s]+)$/i.exec(header)
      const principal = match !== null ? await tokens.verify(match[1]!) : undefined
      if (principal === undefined) {
        sendProblem(reply, request, new ApiError('UNAUTHENTICATED', 'The bearer token is not valid (unknown, revoked, expired or malformed).', { headers: challenge('invalid_token') }))
        return true
      }
      request.principal = principal
    }
    const principal = request.principal
    if (access === 'read' && !opts.readsRequireToken) return false
    if (principal === null) {
      sendProblem(reply, request, new ApiError('UNAUTHENTICATED', access === 'read' ? 'Reads require a token on this server.' : `${request.method === 'GET' || request.method === 'HEAD' ? 'This resource requires' : 'Writes require'} a bearer token (Authorization: Bearer <token>).`, { headers: challenge() }))
      return true
    }
    if ((access === 'admin' && principal.role !== 'admin') || (access === 'editor' && principal.role === 'reader')) {
      sendProblem(reply, request, new ApiError('FORBIDDEN', `This needs a${access === 'admin' ? 'n admin' : 'n editor or admin'} token; this one is ${principal.role === 'editor' ? 'an' : 'a'} ${principal.role} token.`))
      return true
    }
    return false
  }

  // A callback hook (it runs on every request): probes, docs and open reads
  // without a token are let through without a promise. Probes, docs and the API
  // description ignore credentials: a stale header on a load balancer's probe must not
  // fail it. A refused request is answered and done() is not called.
  app.addHook('onRequest', (request, reply, done) => {
    const access = accessOf(request)
    if (access === 'public') return done()
    if (access === 'read' && !opts.readsRequireToken && request.headers.authorization === undefined) return done()
    refused(request, reply, access).then((answered) => { if (!answered) done() }, done)
  })
}, { name: 'auth', dependencies: ['database', 'problem-details'] })
