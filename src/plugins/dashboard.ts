import { createRequire } from 'node:module'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { fromRoot } from '../paths.ts'

const require = createRequire(import.meta.url)

/**
 * The page's own files: HTML, CSS and ES modules, served as written (no build step). Found
 * from the package root, since this module also runs bundled from .build/ (`npm start`).
 */
export const dashboardFolder = fromRoot('src', 'dashboard')
/** ECharts' prebuilt ES module bundle, served from the installed package. */
const echartsFolder = path.join(path.dirname(require.resolve('echarts/package.json')), 'dist')
const ECHARTS_FILE = 'echarts.esm.min.mjs'

/**
 * The dashboard's policy: scripts, styles, data and fonts only from this origin; no inline
 * script and no eval (ECharts needs neither). `style-src 'self'` still allows styles set
 * through the CSSOM (element.style), which is how ECharts positions its canvas and
 * tooltip, while blocking inline <style> elements and style attributes in markup.
 * Images may be data: URLs (ECharts' saved chart images). The API's own answers keep
 * the policy that allows nothing (security-headers plugin).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join('; ')

/**
 * The plan-monitoring dashboard at `/`: a static page that reads the public API with
 * fetch, like any integrator. Files are listed once at start (`wildcard: false`), so
 * only they are served and every other path keeps the API's problem+json 404.
 */
async function dashboard (app: FastifyInstance) {
  // Registered in this plugin's own context, so only the dashboard's answers get the
  // page policy; the security-headers plugin's onRequest hook (registered earlier) runs first.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('content-security-policy', DASHBOARD_CSP)
    done()
  })
  await app.register(fastifyStatic, {
    root: dashboardFolder,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    // A deploy replaces the files: the browser revalidates (ETag) instead of running stale modules.
    cacheControl: true,
    maxAge: 0
  })
  // Only ECharts' ES module bundle, not the package's other builds and maps.
  app.get(`/vendor/echarts/${ECHARTS_FILE}`, { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', 'public, max-age=86400').sendFile(ECHARTS_FILE, echartsFolder, { cacheControl: false }))
}

// Encapsulated (its hooks stay with its routes) but named, so it shows in the plugin tree.
export default fp(dashboard, { name: 'dashboard', encapsulate: true, dependencies: ['security-headers'] })
