import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { catalogue } from '../errors/catalogue.ts'
import { problems } from '../errors/problem.ts'
import type { Access } from './auth.ts'
import { COMMIT_POSITION } from './read-routing.ts'
import { LSN_PATTERN } from '../db/wal-position.ts'
import { documentCaching, type CacheRoute } from './caching.ts'

const errorTable = Object.entries(catalogue)
  .map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.title} |`).join('\n')

const description = `
A registry of disability-services indicators for disabled persons' federations (残疾人联合会)
at province, city and county level: administrative regions, planning documents, an
indicator catalogue, and yearly values (targets set by plans and actuals reported by regions).

残疾人事业指标登记库：收录各级残联五年规划、年度工作要点和工作总结中的指标、目标值与实际值，
按行政区划逐年登记，供各级残联、民政和人社部门的业务系统通过统一接口读写。

**Conventions**
- Request bodies are validated strictly: no type coercion, unknown properties are rejected (400).
- Decimals are accepted as JSON numbers or strings and always answered as strings.
- Lists are paginated: \`limit\` (default 100, max 1000) and the opaque \`cursor\` from
  the previous page's \`nextCursor\` (null on the last page).
- Single resources carry an \`ETag\` (their revision). \`If-None-Match\` gives 304;
  \`If-Match\` on PUT, PATCH and DELETE gives 412 when stale.
- Lists, progress, rollups and rankings carry a weak \`ETag\` derived from the version of
  the data: \`If-None-Match\` with it gives 304 while no write has changed the data, without
  running the query. Reads carry \`Cache-Control\` (\`public\` with a short \`max-age\`, or
  \`private, no-cache\` where reads need a token), so a shared cache can serve them.
- PATCH bodies are JSON merge patches (RFC 7396): a field sent replaces, \`null\` clears
  an optional field. \`application/json\` and \`application/merge-patch+json\` are both accepted.
- Requests are rate limited per client (its token, else its address): past the limit, 429
  with \`Retry-After\`. Behind a load balancer the limit is one limit for all instances when
  the server keeps it in Redis, otherwise each instance counts on its own.
- Every error is \`application/problem+json\` (RFC 9457) with a stable \`code\`:

| code | status | title |
| --- | --- | --- |
${errorTable}
`.trim()

export const openapiInfo = {
  title: 'Disability-services indicator registry',
  version: '1.0.0',
  description,
  contact: { name: 'Registry maintainers' }
}

type RouteSchema = { headers?: { properties?: Record<string, unknown>, [k: string]: unknown } }

const positionHeader = {
  type: 'string',
  pattern: LSN_PATTERN,
  examples: ['16/B374D848']
}

/**
 * The headers of read-your-writes (src/plugins/read-routing.ts), from the same rules as
 * the plugin: every write answer that committed (2xx) or names stored state (409, 412)
 * carries `Commit-Position`; every API read takes it back and says who answered.
 */
function readRoutingDocs (method: string | string[], url: string, schema: RouteSchema, response: Record<string, unknown>) {
  const methods = Array.isArray(method) ? method : [method]
  const withHeader = (status: string, name: string, header: Record<string, unknown>) => {
    const r = response[status] as Record<string, unknown> | undefined
    if (r !== undefined) response[status] = { ...r, headers: { ...(r.headers as object | undefined), [name]: header } }
  }
  if (methods.some((m) => m === 'GET' || m === 'HEAD') && url.startsWith('/v1/')) {
    for (const status of Object.keys(response)) {
      if (/^(2..|304)$/.test(status)) {
        withHeader(status, 'Served-By', { type: 'string', examples: ['replica-1'], description: 'The database server that answered the reads: `primary`, or `replica-<n>` (the n-th connection string of the server\'s DATABASE_READ_URL).' })
      }
    }
    const headers = schema.headers ?? { type: 'object' }
    return {
      response,
      headers: {
        ...headers,
        properties: {
          ...headers.properties,
          [COMMIT_POSITION]: {
            ...positionHeader,
            description: 'The `Commit-Position` of your latest write. The read is then answered by a replica only once it has replayed that far, else by the primary, so it never sees data older than that write (read-your-writes), whichever instance or replica serves it. Not a WAL position: 400.'
          }
        }
      }
    }
  }
  for (const status of Object.keys(response)) {
    if (/^2..$/.test(status)) {
      withHeader(status, 'Commit-Position', {
        ...positionHeader,
        description: 'The primary\'s WAL position after this write committed (PostgreSQL `pg_lsn` text). Send it back as the `Commit-Position` header of later reads to see this write there, even when they are answered by a read replica or another instance. Absent only when the position could not be read just after the commit.'
      })
    }
    if (status === '409' || status === '412') {
      withHeader(status, 'Commit-Position', {
        ...positionHeader,
        description: 'The primary\'s WAL position when the write was refused: send it back as the `Commit-Position` header of a read to see the stored state this answer names.'
      })
    }
  }
  return { response }
}

export default fp(async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: openapiInfo,
      servers: [{ url: '/', description: 'This server' }],
      // Reads are anonymous unless the server sets READS_REQUIRE_TOKEN; every write names
      // bearerAuth itself (added per route by `transform` below).
      security: [{}, { bearerAuth: [] }],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An access token from POST /v1/tokens (`irt_<id>_<secret>`). Roles: reader, editor (its region and below), admin.'
          }
        }
      },
      tags: [
        { name: 'regions', description: 'Administrative divisions keyed by statistical division code (行政区划)' },
        { name: 'indicators', description: 'The indicator catalogue (指标目录)' },
        { name: 'plans', description: 'Planning documents and their target tables (规划、工作要点、工作总结)' },
        { name: 'values', description: 'Yearly values: targets and actuals (年度目标值与实际值)' },
        { name: 'monitoring', description: 'Monitoring and evaluation: plan progress, rollups over regions, rankings (监测评估)' },
        { name: 'changes', description: 'The sync feed of every create, update and delete (变更订阅)' },
        { name: 'tokens', description: 'Access tokens: reader, editor (scoped to a region), admin (访问令牌)' },
        { name: 'health', description: 'Liveness and readiness probes' }
      ]
    },
    // Protected operations: bearerAuth is required and 401/403 are documented, from the
    // same `config.access` the auth plugin enforces (and cache headers from the caching
    // plugin's `config.cache`), so docs and behaviour cannot drift.
    transform: ({ schema, url, route }) => {
      const config = route.config as { access?: Access, cache?: CacheRoute } | undefined
      const access = config?.access ??
        (route.method === 'GET' || route.method === 'HEAD' ? 'read' : 'admin')
      if (schema === undefined || schema === null || access === 'public' || (schema as { hide?: boolean }).hide === true || url.startsWith('/health/')) return { schema, url }
      let response = { ...((schema as { response?: Record<string, unknown> }).response ?? {}) }
      // Cached reads: the ETag, Cache-Control and Vary the caching plugin sends.
      if (config?.cache !== undefined) response = documentCaching(response, config.cache)
      // Any route that takes a body can answer 413 (too large) and 415 (another media type).
      if ((schema as { body?: unknown }).body !== undefined) {
        const bodyErrors = problems(413, 415) as Record<string, unknown>
        for (const status of [413, 415]) response[status] ??= bodyErrors[status]
      }
      const more = problems(...(access === 'read' ? [401] : [401, 403])) as Record<string, unknown>
      for (const status of [401, 403]) if (more[status] !== undefined) response[status] ??= more[status]
      const extra = access === 'read'
        ? {}
        : { security: [{ bearerAuth: [] }] }
      return { schema: { ...schema, ...extra, ...readRoutingDocs(route.method, url, schema as RouteSchema, response) }, url }
    },
    refResolver: {
      // Name shared schemas after their $id in components.schemas (e.g. Problem).
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`)
    }
  })
  // staticCSP: the UI pages carry their own Content-Security-Policy (the API's allows nothing).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}, { name: 'openapi' })
