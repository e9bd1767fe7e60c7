import helmet from '@fastify/helmet'
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

/** API_HEADERS on every answer, errors included (helmet's hook runs on arrival). */
export default fp(async (app) => {
  await app.register(helmet, { global: true, ...API_HEADERS })
}, { name: 'security-headers' })
