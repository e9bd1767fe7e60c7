import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { requestArbitrary, type Context, type FuzzRequest, type Pools } from './generate.ts'
import { judge, LEAK_PATTERNS } from './oracle.ts'
import { loadSpec, type Operation, type Schema } from './spec.ts'

/**
 * A seeded, reproducible fuzzer driven by openapi/openapi.json.
 *
 * Every operation of the document gets `reads` (GET) or `writes` (POST, PUT, PATCH,
 * DELETE) generated requests, sent one at a time through `app.inject`, each judged by
 * oracle.ts. Requests are drawn by fast-check from a seed derived from (seed, phase,
 * operation, request index), so the same seed sends the same requests in the same order and, on a
 * fresh database, meets the same state. Phases keep the seeded data useful: half the
 * reads, then creates and updates, then the other half of the reads (over what the
 * writes left), then deletes.
 */

export const DEFAULT_SEED = 20251125
const CHUNK = 100

export interface FuzzOptions {
  seed?: number
  /** Admin token sent as `Authorization: Bearer` on most requests (some go without or with a bad one). */
  token?: string
  /** Requests per write operation (default 1000) and per read operation (default 300). */
  writes?: number
  reads?: number
  /** Only these operationIds. */
  only?: string[]
  /** Failures reported in full (all are counted). */
  maxFailures?: number
  /** No answer within this many milliseconds is a failure. */
  timeoutMs?: number
  spec?: string | URL
  /** Where failing requests are written as JSON for test/fuzz/replay.ts. */
  failureDir?: string
  log?: (line: string) => void
}

export interface Failure {
  seed: number
  phase: string
  index: number
  request: FuzzRequest
  status?: number
  contentType?: string
  response: string
  reasons: string[]
  file?: string
}

export interface OperationStats {
  id: string
  method: string
  path: string
  requests: number
  ms: number
  statuses: Record<string, number>
  strategies: Record<string, number>
  /** Answered statuses the document does not list for the operation, with a first example. */
  undocumented: Record<string, number>
  undocumentedExamples: Record<string, string>
  failures: number
}

export interface FuzzResult {
  seed: number
  requests: number
  ms: number
  operations: OperationStats[]
  failures: Failure[]
  failureCount: number
  /** Failures grouped by operation, status and first reason (digits folded), with counts. */
  groups: Record<string, number>
  /** Requests light-my-request itself refused to build (not the service's fault). */
  harnessErrors: string[]
  /** Digest of the sequence of answered statuses: equal for two runs of one seed on one code base. */
  digest: string
}

/** FNV-1a over the parts: one independent seed per (run seed, phase, operation, request index). */
export function seedFor (...parts: Array<string | number>): number {
  let h = 0x811c9dc5
  for (const ch of parts.join('\u0000')) {
    h ^= ch.codePointAt(0)!
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h | 0
}

const leaky = (text: string) => LEAK_PATTERNS.some((p) => p.test(text))

function stringsOf (value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out)
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) { out.push(k); stringsOf(v, out) }
}

/** Texts a request carried, so that a later answer echoing them is not taken for a leak. */
export function sentTexts (req: Pick<FuzzRequest, 'url' | 'headers' | 'payload'>): string[] {
  const out = [req.url, ...Object.values(req.headers)]
  try { out.push(decodeURIComponent(req.url)) } catch {}
  const text = req.payload === undefined ? undefined : Buffer.isBuffer(req.payload) ? req.payload.toString('utf8') : req.payload
  if (text !== undefined) {
    out.push(text)
    try { stringsOf(JSON.parse(text), out) } catch {}
  }
  return out
}

async function getJson (app: FastifyInstance, url: string, headers: Record<string, string>): Promise<any> {
  const res = await app.inject({ method: 'GET', url, headers })
  return res.statusCode === 200 ? JSON.parse(res.body) : undefined
}

/** Real rows to aim at: region codes (with levels), indicator codes, plan ids, value ids, cursors. */
export async function fetchPools (app: FastifyInstance, token?: string): Promise<Pools> {
  const headers: Record<string, string> = token !== undefined ? { authorization: `Bearer ${token}` } : {}
  const items = async (url: string): Promise<any[]> => (await getJson(app, url, headers))?.items ?? []
  const regions = new Map<string, string>()
  for (const url of ['/v1/regions?limit=40', '/v1/regions/330000/descendants?limit=60', '/v1/regions/330683/children?limit=20', '/v1/regions/331000/children']) {
    for (const r of await items(url)) regions.set(r.code, r.level)
  }
  // Tokens to revoke: made here, so the fuzzer never revokes the admin token it sends.
  const tokens: string[] = []
  for (const role of ['reader', 'editor', 'admin']) {
    const res = await app.inject({ method: 'POST', url: '/v1/tokens', headers, payload: { name: `fuzz ${role}`, role, regionCode: role === 'editor' ? '330000' : null } })
    if (res.statusCode === 201) tokens.push(JSON.parse(res.body).id)
  }
  const values = [...await items('/v1/values?kind=actual&limit=60'), ...await items('/v1/values?kind=target&limit=60'), ...await items('/v1/values?kind=actual&limit=40&breakdown=*')]
  const cursors: string[] = []
  for (const url of ['/v1/regions?limit=1', '/v1/indicators?limit=1', '/v1/plans?limit=1', '/v1/values?limit=1', '/v1/changes?limit=1']) {
    const body = await getJson(app, url, headers)
    if (typeof body?.nextCursor === 'string') cursors.push(body.nextCursor)
  }
  return {
    regions: [...regions].map(([code, level]) => ({ code, level })).sort((a, b) => a.code.localeCompare(b.code)),
    indicators: (await items('/v1/indicators?limit=80')).map((i) => i.code).sort(),
    plans: (await items('/v1/plans?limit=50')).map((p) => ({ id: p.id, regionCode: p.regionCode, startYear: p.startYear, endYear: p.endYear })).sort((a, b) => a.id.localeCompare(b.id)),
    values: [...new Set(values.map((v) => v.id as number))].sort((a, b) => a - b),
    tokens,
    cursors
  }
}

function describe (req: FuzzRequest): string {
  const payload = req.payload === undefined
    ? '(none)'
    : Buffer.isBuffer(req.payload) ? `base64:${req.payload.toString('base64')}` : JSON.stringify(req.payload.length > 2000 ? `${req.payload.slice(0, 2000)}…(${req.payload.length} chars)` : req.payload)
  return [`  ${req.method} ${req.url.length > 500 ? `${req.url.slice(0, 500)}…(${req.url.length} chars)` : req.url}`,
    `  headers: ${JSON.stringify(req.headers, (_k, v: unknown) => typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length} chars)` : v)}`,
    `  body: ${payload}`].join('\n')
}

export function formatFailure (f: Failure, n: number): string {
  return [
    `FUZZ FAILURE ${n}: FUZZ_SEED=${f.seed} operation ${f.request.operation}, phase ${f.phase}, request ${f.index}, strategy ${f.request.strategy}, auth ${f.request.auth}`,
    describe(f.request),
    `  -> ${f.status ?? 'no answer'} ${f.contentType ?? ''}`,
    `  response: ${f.response.slice(0, 800)}`,
    ...f.reasons.map((r) => `  FAIL: ${r.slice(0, 600)}`),
    ...(f.file !== undefined ? [`  replay this request alone: node --import tsx test/fuzz/replay.ts ${f.file}`] : [])
  ].join('\n')
}

export async function runFuzz (app: FastifyInstance, options: FuzzOptions = {}): Promise<FuzzResult> {
  const seed = options.seed ?? DEFAULT_SEED
  const log = options.log ?? (() => {})
  const maxFailures = options.maxFailures ?? 20
  const timeoutMs = options.timeoutMs ?? 15_000
  const failureDir = options.failureDir ?? path.join(os.tmpdir(), 'indicator-registry-fuzz', String(seed))
  const spec = loadSpec(options.spec ?? new URL('../../openapi/openapi.json', import.meta.url))
  // Failure files of an earlier run with this seed would be mistaken for this run's.
  try {
    for (const file of readdirSync(failureDir)) if (/^failure-\d+\.json$/.test(file)) rmSync(path.join(failureDir, file))
  } catch {}
  const operations = spec.operations.filter((op) => options.only === undefined || options.only.includes(op.id))
  const bodies = new Map<string, Schema>()
  for (const op of spec.operations) if (op.body?.content['application/json'] !== undefined) bodies.set(`${op.method} ${op.path}`, op.body.content['application/json'])

  const ctx: Context = { pools: await fetchPools(app, options.token), token: options.token, bodies }
  log(`fuzz: seed ${seed}; ${operations.length} operations; pools: ${ctx.pools.regions.length} regions, ${ctx.pools.indicators.length} indicators, ${ctx.pools.plans.length} plans, ${ctx.pools.values.length} values, ${ctx.pools.tokens.length} tokens, ${ctx.pools.cursors.length} cursors`)

  const stats = new Map<string, OperationStats>(operations.map((op) => [op.id, {
    id: op.id, method: op.method, path: op.path, requests: 0, ms: 0, statuses: {}, strategies: {}, undocumented: {}, undocumentedExamples: {}, failures: 0
  }]))
  const result: FuzzResult = { seed, requests: 0, ms: 0, operations: [...stats.values()], failures: [], failureCount: 0, groups: {}, harnessErrors: [], digest: '' }
  let digest = 0
  const sentLeaky: string[] = []
  const sent = (fragment: string) => sentLeaky.some((s) => s.includes(fragment.toLowerCase()))
  const started = performance.now()

  const send = async (op: Operation, phase: string, index: number, req: FuzzRequest) => {
    const s = stats.get(op.id)!
    const exact = req.exact
    for (const text of sentTexts(req)) if (leaky(text)) sentLeaky.push(text.toLowerCase())
    const t0 = performance.now()
    let res: LightMyRequestResponse | undefined
    let reasons: string[] = []
    let undocumented: string | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      res = await Promise.race([
        app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, ...(req.payload !== undefined ? { payload: req.payload } : {}) }),
        new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs) })
      ])
      if (res === undefined) reasons = [`no answer within ${timeoutMs} ms`]
      else ({ failures: reasons, undocumented } = judge(spec, op, req, options.token !== undefined, res, sent))
    } catch (err) {
      // light-my-request refuses some requests before they reach the service (e.g. header bytes).
      if (result.harnessErrors.length < 20) result.harnessErrors.push(`${req.method} ${req.url.slice(0, 200)}: ${(err as Error).message}`)
    } finally {
      clearTimeout(timer)
    }
    s.ms += performance.now() - t0
    s.requests++
    result.requests++
    s.strategies[req.strategy] = (s.strategies[req.strategy] ?? 0) + 1
    if (res !== undefined) s.statuses[res.statusCode] = (s.statuses[res.statusCode] ?? 0) + 1
    digest = seedFor(digest, res?.statusCode ?? 0)
    if (undocumented !== undefined && exact && res !== undefined) {
      s.undocumented[undocumented] = (s.undocumented[undocumented] ?? 0) + 1
      if (s.undocumentedExamples[undocumented] === undefined) {
        let code = ''
        try { code = String(JSON.parse(res.body).code) } catch {}
        s.undocumentedExamples[undocumented] = `${req.method} ${req.url.slice(0, 120)} (${req.strategy}) -> ${code}`
      }
    }
    if (reasons.length === 0) return
    s.failures++
    result.failureCount++
    const group = `${op.id} ${res?.statusCode ?? '-'} ${reasons[0]!.replace(/[0-9]+/g, 'N').slice(0, 120)}`
    result.groups[group] = (result.groups[group] ?? 0) + 1
    if (result.failures.length >= maxFailures) return
    const failure: Failure = {
      seed, phase, index, request: req, status: res?.statusCode, contentType: res?.headers['content-type'] as string | undefined,
      response: res?.body ?? '', reasons
    }
    try {
      mkdirSync(failureDir, { recursive: true })
      failure.file = path.join(failureDir, `failure-${String(result.failures.length + 1).padStart(2, '0')}.json`)
      const payload = req.payload === undefined ? {} : Buffer.isBuffer(req.payload) ? { payloadBase64: req.payload.toString('base64') } : { payload: req.payload }
      writeFileSync(failure.file, JSON.stringify({ seed, phase, index, operation: op.id, strategy: req.strategy, auth: req.auth, exact: req.exact, method: req.method, url: req.url, headers: req.headers, ...payload, status: failure.status, reasons }, null, 2))
    } catch {}
    result.failures.push(failure)
    log(formatFailure(failure, result.failures.length))
  }

  /**
   * `count` requests per operation; operations take turns CHUNK requests at a time. Each
   * request is drawn alone from its own seed (run seed, phase, operation, index): the
   * stream is reproducible, and no long synchronous generation stalls the event loop
   * (overload shedding would see it).
   */
  const phase = async (name: string, ops: Operation[], count: number) => {
    const t0 = performance.now()
    const arbitraries = new Map(ops.map((op) => [op.id, requestArbitrary(op, ctx)]))
    for (let chunk = 0; chunk * CHUNK < count; chunk++) {
      for (const op of ops) {
        for (let index = chunk * CHUNK; index < Math.min(count, (chunk + 1) * CHUNK); index++) {
          let request: FuzzRequest | undefined
          try {
            request = fc.sample(arbitraries.get(op.id)!, { seed: seedFor(seed, name, op.id, index), numRuns: 1 })[0]
          } catch (err) {
            // A generator bug must not hide the service's answers to every other request.
            if (result.harnessErrors.length < 20) result.harnessErrors.push(`generating ${op.id} ${name} #${index}: ${(err as Error).message}`)
          }
          if (request !== undefined) await send(op, name, index, request)
        }
      }
    }
    if (ops.length > 0) log(`fuzz: phase ${name}: ${ops.length} operations x ${count} requests in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  }

  const reads = operations.filter((op) => !op.write)
  const writes = operations.filter((op) => op.write && op.method !== 'DELETE')
  const deletes = operations.filter((op) => op.method === 'DELETE')
  const readCount = options.reads ?? 300
  const writeCount = options.writes ?? 1000
  await phase('reads-1', reads, Math.ceil(readCount / 2))
  await phase('writes', writes, writeCount)
  ctx.pools = await fetchPools(app, options.token)
  await phase('reads-2', reads, Math.floor(readCount / 2))
  await phase('deletes', deletes, writeCount)
  result.ms = performance.now() - started
  result.digest = (digest >>> 0).toString(16).padStart(8, '0')
  return result
}

/** One line per operation: requests, time and status counts. */
export function formatStats (result: FuzzResult): string {
  const lines = result.operations.map((s) => {
    const statuses = Object.entries(s.statuses).map(([k, v]) => `${k}:${v}`).join(' ')
    const undocumented = Object.keys(s.undocumented).length > 0 ? `  undocumented ${Object.entries(s.undocumented).map(([k, v]) => `${k}:${v}`).join(' ')}` : ''
    return `${s.method.padEnd(6)} ${s.path.padEnd(34)} ${String(s.requests).padStart(5)} req ${(s.ms / 1000).toFixed(1).padStart(5)} s  ${statuses}${undocumented}`
  })
  return [`fuzz: seed ${result.seed}, ${result.requests} requests in ${(result.ms / 1000).toFixed(1)} s, ${result.failureCount} failures, status digest ${result.digest}`, ...lines].join('\n')
}
