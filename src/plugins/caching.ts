import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest, onSendHookHandler, preHandlerAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import type { Db } from '../db/client.ts'
import { createAnswerCache } from '../lib/answer-cache.ts'
import { buildTag } from '../lib/build-tag.ts'
import { noneMatchNames } from '../lib/conditional.ts'
import { createVersionSource, type VersionSource } from '../lib/data-version.ts'
import { addVary } from '../lib/vary.ts'

/** Read-your-writes (read-routing.ts): every cached answer varies with it. */
const POSITION_HEADER = 'Commit-Position'

/**
 * How a GET route's answers may be cached (`config: { cache }`):
 * - `data`: the answer is derived from the registry's data (a list, progress, a rollup, a
 *   ranking). Its ETag is derived from the data version, computed before the handler runs,
 *   so If-None-Match with the current tag is answered 304 without running the handler, and
 *   a JSON answer may be kept in memory and replayed (body and content type only: such a
 *   handler sets no headers of its own).
 * - `revision`: a single resource whose handler sets its ETag (its revision); only the
 *   Cache-Control below is added.
 * - an object: `data`, with what else selects the answer (see DataCache).
 */
export type CacheRoute = 'data' | 'revision' | DataCache

export interface DataCache {
  /**
   * Request headers that choose the representation (Accept where a list is also CSV or a
   * workbook): listed in Vary, and their values are part of the ETag.
   */
  vary?: readonly string[]
  /** What else the answer depends on besides its URL and the data (a default taken from today's date). */
  depends?: (request: FastifyRequest) => string
}

declare module 'fastify' {
  interface FastifyContextConfig {
    cache?: CacheRoute
  }
}

export interface CachingOptions {
  /** Seconds a shared cache may serve a public read without asking again (CACHE_MAX_AGE; 0: it asks every time). */
  maxAge: number
  /** Seconds it may go on serving it while it revalidates in the background (CACHE_STALE_WHILE_REVALIDATE). */
  staleWhileRevalidate: number
  /** READS_REQUIRE_TOKEN: answers are private to the token holder. */
  readsRequireToken: boolean
  /** Bytes of serialized answers kept in this process (CACHE_MEMORY_MB); 0: none. */
  memoryBytes?: number
}

export const defaultCaching = { maxAge: 10, staleWhileRevalidate: 30, memoryBytes: 16 * 2 ** 20 }

/** `Cache-Control` of a cacheable answer. */
export function cacheControlOf (opts: CachingOptions): string {
  // Behind a token, an answer is the holder's: no shared cache may keep it, and the
  // holder's own cache asks every time, so a revoked token stops reading at once (the
  // question is a 304 when nothing changed).
  if (opts.readsRequireToken) return 'private, no-cache'
  if (opts.maxAge === 0) return 'public, no-cache'
  return `public, max-age=${opts.maxAge}, stale-while-revalidate=${opts.staleWhileRevalidate}`
}

const toList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x])

const HEADERS = {
  data: {
    description: 'Weak validator of this answer, derived from the version of the data it covers (and the service\'s build): it changes with any write that could change the answer. Send it back in If-None-Match to get 304 while nothing changed.',
    type: 'string',
    examples: ['W/"k3mQ0w2Xc9s1rYq8Zb7uVa"']
  },
  revision: { description: 'The resource\'s revision. Send it back in If-None-Match to get 304 while it is current, or in If-Match to guard a write.', type: 'string', examples: ['"3"'] },
  cacheControl: {
    description: '`public, max-age=CACHE_MAX_AGE, stale-while-revalidate=CACHE_STALE_WHILE_REVALIDATE` (10 and 30 s unless configured) when reads are public, so shared caches may keep it; `private, no-cache` when the server requires a token for reads.',
    type: 'string',
    examples: ['public, max-age=10, stale-while-revalidate=30']
  },
  vary: (fields: readonly string[]) => ({ description: `The request headers this answer varies with: ${fields.join(', ')} (Commit-Position: a read after a write is never answered with a copy kept for another request).`, type: 'string', examples: [fields.join(', ')] })
}

/**
 * The OpenAPI description of a cached route's 200 and 304 answers: their ETag,
 * Cache-Control and Vary headers, from the same `config.cache` this plugin acts on
 * (called by the openapi plugin's transform).
 */
export function documentCaching (response: Record<string, unknown>, setting: CacheRoute): Record<string, unknown> {
  const vary = [...(typeof setting === 'object' ? setting.vary ?? [] : []), POSITION_HEADER]
  const headers = {
    ETag: setting === 'revision' ? HEADERS.revision : HEADERS.data,
    'Cache-Control': HEADERS.cacheControl,
    Vary: HEADERS.vary(vary)
  }
  const withHeaders = (status: number) => ({ ...response[status] as object, headers })
  return { ...response, 200: withHeaders(200), 304: withHeaders(304) }
}

/**
 * Cacheable reads (RFC 9111): routes that opt in (`config.cache`) get Cache-Control from
 * the configuration, and data routes an ETag from the data version, so a shared cache (a
 * reverse proxy, a CDN) can keep and revalidate them, and a conditional request for
 * unchanged data costs one small query instead of the route's own. With CACHE_MEMORY_MB
 * set, JSON answers of data routes are also kept in this process (lib/answer-cache.ts)
 * and replayed while their ETag is current, which each request checks against a version
 * taken after it arrived.
 *
 * The ETag is weak: two answers with one tag carry the same data in the same
 * representation, not necessarily the same bytes (a workbook records when it was written;
 * a list's order between equal keys is the database's). It digests the code's build tag
 * (a deploy that writes answers differently invalidates every tag), the data version, the
 * values of the headers in Vary, and whatever else the route says the answer depends on.
 * The URL is not in it: a tag is compared only with tags of the same URL. Only 200 and 304
 * answers carry it; any other status is `no-store`.
 */
export default fp<CachingOptions>(async (app, opts) => {
  const build = await buildTag()
  const cacheControl = cacheControlOf(opts)
  const sources = new WeakMap<Db, VersionSource>()
  const memory = (opts.memoryBytes ?? 0) > 0 ? createAnswerCache(opts.memoryBytes!) : undefined
  const memoryKeys = new WeakMap<FastifyRequest, string>()

  const sourceOf = (db: Db): VersionSource => {
    let source = sources.get(db)
    if (source === undefined) {
      source = createVersionSource(db)
      sources.set(db, source)
    }
    return source
  }

  function conditional (route: DataCache): preHandlerAsyncHookHandler {
    const vary = (route.vary ?? []).map((name) => name.toLowerCase())
    return async function (request: FastifyRequest, reply: FastifyReply) {
      // Before the handler's query, never after: a version read after the data could name
      // newer data than the answer holds, and a later request would get 304 for an old copy.
      // A 304 or an answer from memory says "this is current", so it needs a version taken
      // after the request arrived; a full answer only needs one taken before its query.
      // On the server this request reads from (read-routing): a version from one server says
      // nothing about another's data.
      const source = sourceOf(request.readDb)
      const version = await (request.headers['if-none-match'] !== undefined || memory !== undefined ? source.current() : source.known())
      // What selects this representation of the URL besides the data.
      let variant = ''
      for (const name of vary) variant += `\0${String(request.headers[name] ?? '')}`
      if (route.depends !== undefined) variant += `\0${route.depends(request)}`
      const etag = `W/"${createHash('sha256').update(`${build}\0${version}${variant}`).digest('base64url').slice(0, 22)}"`
      reply.header('etag', etag)
      if (route.vary !== undefined) addVary(reply, ...route.vary)
      if (noneMatchNames(request, etag)) return reply.code(304).send()
      if (memory !== undefined && request.method === 'GET') {
        const key = `${request.url}${variant}`
        const hit = memory.get(key, etag)
        if (hit !== undefined) return reply.type(hit.type).send(hit.payload)
        memoryKeys.set(request, key)
      }
    }
  }

  // Only what succeeded may be kept: an error (a 404 that a write may end, a 503) is not.
  const headers: onSendHookHandler = (request, reply, payload, done) => {
    if (reply.statusCode === 200 || reply.statusCode === 304) {
      reply.header('cache-control', cacheControl)
      // A read that sends a Commit-Position must not be answered with a copy kept for a
      // request without it (or with an older one): that copy may predate the client's write.
      addVary(reply, POSITION_HEADER)
      const key = memoryKeys.get(request)
      if (key !== undefined && reply.statusCode === 200 && typeof payload === 'string') {
        memory!.set(key, { etag: reply.getHeader('etag') as string, type: reply.getHeader('content-type') as string, payload })
      }
    } else {
      reply.header('cache-control', 'no-store')
      reply.removeHeader('etag')
    }
    done(null, payload)
  }

  app.addHook('onRoute', (route) => {
    const setting = route.config?.cache
    if (setting === undefined) return
    if (toList(route.method).some((m) => m !== 'GET' && m !== 'HEAD')) throw new Error(`${String(route.method)} ${route.url}: only reads are cacheable`)
    if ((route.schema?.response as Record<number, unknown> | undefined)?.[304] === undefined) throw new Error(`${route.url}: a cached route documents its 304 (NOT_MODIFIED)`)
    if (setting !== 'revision') {
      route.preHandler = [...toList(route.preHandler), conditional(setting === 'data' ? {} : setting)]
    }
    route.onSend = [...toList(route.onSend), headers]
  })
}, { name: 'caching', dependencies: ['database', 'read-routing'] })
