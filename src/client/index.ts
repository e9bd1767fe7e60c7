/**
 * A typed client of the registry's HTTP API: openapi-fetch over the types that
 * openapi-typescript generates from openapi/openapi.json (src/client/schema.ts, written by
 * `npm run openapi`). Paths, parameters, bodies and answers are checked by the compiler,
 * so a change of the API that the client does not follow fails the typecheck.
 *
 *   import { createRegistryClient } from 'indicator-registry/client'
 *   const api = createRegistryClient({ baseUrl: 'http://127.0.0.1:3000', token: process.env.REGISTRY_TOKEN })
 *   const { data, error } = await api.GET('/v1/plans/{id}/progress', { params: { path: { id: 'huangyan-disability-14th-fyp' } } })
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch'
import { formatLsn, parseLsn } from '../db/wal-position.ts'
import type { components, operations, paths } from './schema.ts'

export type { components, operations, paths }

/** RFC 9457 problem details, as every 4xx and 5xx answer carries them. */
export type Problem = components['schemas']['Problem']

export type RegistryClient = Client<paths>

/** The query parameters of an operation, by its operationId (e.g. `QueryOf<'listChanges'>`). */
export type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>

/** The JSON request body of an operation, by its operationId (e.g. `JsonBodyOf<'createToken'>`). */
export type JsonBodyOf<Op extends keyof operations> = operations[Op] extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never

export interface RegistryClientOptions {
  /**
   * Where the service runs, e.g. `http://127.0.0.1:3000` or `https://registry.example.gov.cn/api`.
   * A trailing `/v1` (as in the README's `API=...`) is accepted and dropped: the paths carry it.
   */
  baseUrl: string
  /** A bearer token (`irt_<id>_<secret>`); reads work without one unless the server requires it. */
  token?: string
  /** A fetch of your own (retries, proxies, tests); default: the global fetch. */
  fetch?: (request: Request) => Promise<Response>
  /** Extra headers sent with every request (e.g. `user-agent`, `x-request-id`). */
  headers?: Record<string, string>
  /**
   * Send the `Commit-Position` of this client's latest write with its reads (default true),
   * so that a deployment with read replicas answers them from a server that has that write.
   */
  readYourWrites?: boolean
}

/** The service root from a URL a person typed: no trailing slash, no trailing `/v1`. */
export function normaliseBaseUrl (url: string): string {
  return url.trim().replace(/\/+$/, '').replace(/\/v1$/, '')
}

/**
 * Read-your-writes: keeps the greatest `Commit-Position` among the answers this client
 * received and sends it with its reads (unless the caller set one). A service with read
 * replicas then answers those reads from a replica that has replayed that far, or from the
 * primary; without replicas the header changes nothing.
 */
function readYourWrites (): Middleware {
  let latest: bigint | undefined
  return {
    onRequest ({ request }) {
      const read = request.method === 'GET' || request.method === 'HEAD'
      if (read && latest !== undefined && !request.headers.has('commit-position')) {
        request.headers.set('commit-position', formatLsn(latest))
      }
      return request
    },
    onResponse ({ response }) {
      const position = parseLsn(response.headers.get('commit-position') ?? '')
      if (position !== undefined && (latest === undefined || position > latest)) latest = position
      return response
    }
  }
}

export function createRegistryClient (options: RegistryClientOptions): RegistryClient {
  const client = createClient<paths>({
    baseUrl: normaliseBaseUrl(options.baseUrl),
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
    headers: {
      ...options.headers,
      ...(options.token !== undefined && options.token !== '' ? { authorization: `Bearer ${options.token}` } : {})
    }
  })
  if (options.readYourWrites !== false) client.use(readYourWrites())
  return client
}
