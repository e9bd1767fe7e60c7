import helmet from 'helmet'
import fp from 'fastify-plugin'

/**
 * The security headers an API that answers JSON sends on every response, as OWASP's REST
 * Security Cheat Sheet lists them: a Content-Security-Policy that allows nothing and no
 * framing, HSTS, nosniff, X-Frame-Options DENY, and Cross-Origin-Resource-Policy (no other
 * site may load a response as a script or an image). Helmet's headers that only act on an
 * HTML page a browser renders (Referrer-Policy, X-DNS-Prefetch-Control, X-Download-Options,
 * Origin-Agent-Cluster, X-Permitted-Cross-Domain-Policies, X-XSS-Protection and the
 * cross-origin opener and embedder policies) are off: they do nothing for a JSON answer and
 * would be seven more headers, some 220 bytes, on every response. The Swagger UI's pages set
 * their own policy (staticCSP in the openapi plugin).
 */
export const API_HEADERS = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  xFrameOptions: { action: 'deny' },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false
} as const

/**
 * API_HEADERS on every answer, errors included: set on arrival, so every later answer keeps
 * them. Helmet's middleware is built once here and applied to each request; its Fastify
 * adapter (@fastify/helmet) builds the middleware again for every request, which cost
 * several microseconds and a few kilobytes of garbage per request for headers that never
 * change.
 */
export default fp(async (app) => {
  const apply = helmet(API_HEADERS)
  app.addHook('onRequest', (request, reply, done) => {
    // Helmet calls next with no argument, or throws: done is passed as it is, no closure per request.
    apply(request.raw, reply.raw, done as (err?: unknown) => void)
  })
}, { name: 'security-headers' })
