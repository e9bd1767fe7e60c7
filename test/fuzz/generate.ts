import fc from 'fast-check'
import { generateSync } from 'json-schema-faker'
import { breakDraft, toCsv } from './mutate.ts'
import type { AuthMode } from './oracle.ts'
import { encodeLoose } from './payloads.ts'
import { chance, int, mulberry32, pick, type G } from './random.ts'
import type { Operation, Schema } from './spec.ts'

/**
 * Builds one request for an operation: a valid-by-schema request (json-schema-faker,
 * seeded from fast-check, with real ids and codes mixed in and values nudged towards ones
 * the registry accepts), then one strategy of mutate.ts that breaks it, then the token.
 */

export interface Pools {
  regions: Array<{ code: string, level: string }>
  indicators: string[]
  plans: Array<{ id: string, regionCode: string, startYear: number, endYear: number }>
  values: number[]
  tokens: string[]
  cursors: string[]
}

export interface FuzzRequest {
  operation: string
  strategy: string
  auth: AuthMode
  /** False when the request may reach another route (changed method or path, empty path parameter). */
  exact: boolean
  method: string
  url: string
  headers: Record<string, string>
  payload?: string | Buffer
}

export interface Context {
  pools: Pools
  token?: string
  /** Request body schemas by "METHOD /path", to fill open rows described as "the body of POST /v1/values". */
  bodies: Map<string, Schema>
}

export interface Draft {
  path: Record<string, string>
  /** Path segments already percent-encoded (deliberately odd). */
  pathRaw: Record<string, string>
  query: Array<[string, string]>
  queryRaw: string[]
  headers: Record<string, string>
  contentType?: string
  body?: unknown
  bodyType?: string
  payload?: string | Buffer
  /** Sentinel strings in the JSON text replaced by raw literals (1e999, NaN, ...). */
  splices: Array<[string, string]>
  strategy: string
  method: string
  suffix: string
}

// --- Valid requests ----------------------------------------------------------------

const REGION_KEYS = new Set(['regionCode', 'parentCode', 'region', 'parent', 'within'])
const INDICATOR_KEYS = new Set(['indicatorCode', 'indicator'])
const PLAN_KEYS = new Set(['planId', 'parentPlanId', 'plan'])
const CURSOR_KEYS = new Set(['cursor', 'after'])
const ACTUAL_ONLY = ['status', 'numerator', 'denominator', 'asOf']
const TARGET_ONLY = ['planId', 'comparator', 'binding', 'baselineYear', 'baselineValue', 'qualitative']
const CHILD_LEVEL: Record<string, string> = { national: 'province', province: 'prefecture', prefecture: 'county', county: 'township' }

/** The collection a path parameter names: `/v1/regions/{code}` -> regions. */
function collectionOf (op: Operation, name: string): string | undefined {
  const parts = op.path.split('/')
  const i = parts.indexOf(`{${name}}`)
  return i > 0 ? parts[i - 1] : undefined
}

function poolFor (ctx: Context, op: Operation, key: string, where: 'path' | 'field'): string[] | undefined {
  const { pools } = ctx
  const collection = where === 'path' ? collectionOf(op, key) : op.path.split('/')[2]
  if (REGION_KEYS.has(key) || (collection === 'regions' && key === 'code')) return pools.regions.map((r) => r.code)
  if (INDICATOR_KEYS.has(key) || (collection === 'indicators' && key === 'code')) return pools.indicators
  if (PLAN_KEYS.has(key) || (collection === 'plans' && key === 'id')) return pools.plans.map((p) => p.id)
  if (collection === 'values' && key === 'id' && where === 'path') return pools.values.map(String)
  if (collection === 'tokens' && key === 'id' && where === 'path') return pools.tokens
  if (CURSOR_KEYS.has(key)) return pools.cursors
  return undefined
}

function fake (g: G, schema: Schema, examples = false): unknown {
  const options = {
    seed: int(g, 1, 2 ** 31 - 2),
    optionalsProbability: pick(g, [0, 0.3, 0.6, 1]),
    useExamplesValue: examples,
    maxDefaultItems: 3,
    maxItems: 4
  }
  // Copies: examples come back by reference, and requests are mutated afterwards.
  try {
    return structuredClone(generateSync(schema as never, options))
  } catch {
    // json-schema-faker gives up on some combinations (minProperties with no optionals drawn).
    try {
      return structuredClone(generateSync(schema as never, { ...options, optionalsProbability: 1 }))
    } catch {
      return {}
    }
  }
}

const enriched = new WeakMap<object, unknown>()

/** Open row schemas that say they are "the body of POST /v1/values" become that schema (once per schema). */
function enrich (schema: Schema, ctx: Context): Schema {
  if (!enriched.has(schema)) enriched.set(schema, enrichNode(schema, ctx))
  return enriched.get(schema) as Schema
}

function enrichNode (node: unknown, ctx: Context): unknown {
  if (Array.isArray(node)) return node.map((n) => enrichNode(n, ctx))
  if (node === null || typeof node !== 'object') return node
  const s = node as Schema
  const m = typeof s.description === 'string' ? /the body of (POST|PUT|PATCH) (\/\S+)/.exec(s.description) : null
  const open = s.properties === undefined || Object.keys(s.properties as object).length === 0
  if (m !== null && open && ctx.bodies.has(`${m[1]} ${m[2]}`)) return ctx.bodies.get(`${m[1]} ${m[2]}`)
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, enrichNode(v, ctx)]))
}

const year = (g: G) => int(g, 2014, 2027)
const smallDecimal = (g: G): number | string => chance(g, 0.5) ? int(g, 0, 100) : `${int(g, 0, 99)}.${int(g, 0, 99)}`

/** Pushes generated values towards ones the registry accepts, so many requests reach the database. */
function nudge (g: G, value: unknown, ctx: Context, op: Operation, draft: Draft): void {
  if (Array.isArray(value)) {
    for (const v of value) nudge(g, v, ctx, op, draft)
    return
  }
  if (value === null || typeof value !== 'object') return
  const o = value as Record<string, unknown>
  for (const key of Object.keys(o)) {
    const pool = poolFor(ctx, op, key, 'field')
    // The key of a resource being created mostly new (a real one is a 409), references mostly real.
    const own = op.method === 'POST' && o === draft.body && (key === 'id' || key === 'code')
    if (pool !== undefined && pool.length > 0 && chance(g, own ? 0.25 : 0.75)) o[key] = pick(g, pool)
    else if (typeof o[key] === 'object') nudge(g, o[key], ctx, op, draft)
  }
  const p = 0.6
  for (const key of ['year', 'startYear', 'baselineYear', 'fromYear']) if (typeof o[key] === 'number' && chance(g, p)) o[key] = year(g)
  if (typeof o.year === 'number' && typeof o.fromYear === 'number' && o.fromYear > o.year && chance(g, p)) o.fromYear = o.year
  if (typeof o.startYear === 'number' && typeof o.endYear === 'number' && chance(g, p)) o.endYear = (o.startYear) + int(g, 0, 5)
  for (const key of ['value', 'numerator', 'baselineValue']) if (key in o && o[key] !== null && chance(g, p)) o[key] = smallDecimal(g)
  if ('denominator' in o && o.denominator !== null && chance(g, p)) o.denominator = int(g, 100, 200)
  if (typeof o.min === 'number' && typeof o.max === 'number' && o.min > o.max && chance(g, p)) [o.min, o.max] = [o.max, o.min]
  if ('parentPlanId' in o && chance(g, 0.6)) o.parentPlanId = null
  if ('asOf' in o && chance(g, 0.5)) o.asOf = null
  // A yearly value or target row: fields of its kind only, a target inside a real plan's region and years.
  const pathPlan = ctx.pools.plans.find((plan) => plan.id === draft.path.id && op.path.startsWith('/v1/plans/'))
  if ('indicatorCode' in o && 'regionCode' in o && (o.kind !== undefined || pathPlan !== undefined) && chance(g, 0.7)) {
    if (o.kind === 'target' || pathPlan !== undefined) {
      const plan = pathPlan ?? (ctx.pools.plans.length > 0 ? pick(g, ctx.pools.plans) : undefined)
      if (plan !== undefined) {
        if ('kind' in o) o.planId = plan.id
        o.regionCode = plan.regionCode
        o.year = int(g, plan.startYear, plan.endYear)
        o.fromYear = o.year
      }
      for (const key of ACTUAL_ONLY) delete o[key]
    } else {
      for (const key of TARGET_ONLY) delete o[key]
    }
    if (o.value === undefined || o.value === null) o.value = smallDecimal(g)
  }
  // A region body: a plausible child of a real region (code under its parent's prefix, next level).
  if (typeof o.level === 'string' && 'name' in o && ctx.pools.regions.length > 0 && chance(g, 0.6)) {
    const parent = pick(g, ctx.pools.regions.filter((r) => r.level !== 'township'))
    const level = CHILD_LEVEL[parent.level] ?? 'county'
    const suffix = String(int(g, 1, 99)).padStart(2, '0')
    const code = level === 'township'
      ? `${parent.code}${String(int(g, 1, 999)).padStart(3, '0')}`
      : level === 'province' ? `${int(g, 11, 89)}0000` : level === 'prefecture' ? `${parent.code.slice(0, 2)}${suffix}00` : `${parent.code.slice(0, 4)}${suffix}`
    o.level = level
    o.parentCode = parent.code
    if ('code' in o) o.code = code
    else if ('code' in draft.path && op.method === 'PUT') draft.path.code = code
  }
}

function paramText (value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

function validDraft (g: G, op: Operation, ctx: Context): Draft {
  const draft: Draft = { path: {}, pathRaw: {}, query: [], queryRaw: [], headers: {}, splices: [], strategy: 'valid', method: op.method, suffix: '' }
  for (const p of op.params) {
    const pool = poolFor(ctx, op, p.name, p.in === 'path' ? 'path' : 'field')
    const value = () => pool !== undefined && pool.length > 0 && chance(g, p.in === 'path' ? 0.8 : 0.6) ? pick(g, pool) : paramText(fake(g, p.schema, chance(g, 0.3)))
    if (p.in === 'path') draft.path[p.name] = value()
    else if (p.in === 'query' && (p.required || chance(g, 0.35))) draft.query.push([p.name, value()])
    else if (p.in === 'header' && chance(g, 0.5)) {
      draft.headers[p.name] = p.name === 'idempotency-key' && chance(g, 0.7) ? `fuzz-key-${int(g, 1, 30)}` : paramText(fake(g, p.schema))
    }
  }
  if (op.body !== undefined) {
    const types = Object.keys(op.body.content)
    draft.bodyType = types.includes('application/json') && chance(g, 0.85) ? 'application/json' : pick(g, types)
    draft.contentType = draft.bodyType
    const schema = enrich(op.body.content[draft.bodyType === 'text/csv' ? 'application/json' : draft.bodyType] ?? {}, ctx)
    draft.body = fake(g, schema, chance(g, 0.25))
    nudge(g, draft.body, ctx, op, draft)
    if (draft.bodyType === 'text/csv') draft.payload = toCsv(g, draft.body)
  }
  return draft
}

// --- Materialising -----------------------------------------------------------------

const GARBAGE_AUTH = ['Bearer garbage', 'Bearer ', 'Bearer', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(4000)}`, 'Bearer \'; select 1 --', 'Token abc', 'Bearer null']

function authHeader (g: G, ctx: Context): { auth: AuthMode, header?: string } {
  const roll = int(g, 0, 99)
  if (roll < 90) return { auth: 'token', header: ctx.token !== undefined ? `Bearer ${ctx.token}` : undefined }
  if (roll < 95) return { auth: 'none' }
  const garbage = ctx.token !== undefined && chance(g, 0.3) ? pick(g, [`Bearer ${ctx.token}x`, `Bearer ${ctx.token.slice(0, -1)}`, `bearer  ${ctx.token}`]) : pick(g, GARBAGE_AUTH)
  return { auth: 'garbage', header: garbage }
}

function materialise (g: G, op: Operation, draft: Draft, ctx: Context): FuzzRequest {
  let url = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => draft.pathRaw[name] ?? encodeLoose(draft.path[name] ?? ''))
  const query = [...draft.query.map(([k, v]) => `${encodeLoose(k)}=${encodeLoose(v)}`), ...draft.queryRaw]
  url += draft.suffix
  if (query.length > 0) url += `${url.includes('?') ? '&' : '?'}${query.join('&')}`

  const headers: Record<string, string> = { ...draft.headers }
  const { auth, header } = authHeader(g, ctx)
  if (header !== undefined) headers.authorization = header

  let payload = draft.payload
  if (payload === undefined && draft.body !== undefined) {
    let text = JSON.stringify(draft.body) ?? 'null'
    for (const [sentinel, literal] of draft.splices) text = text.replace(sentinel, literal)
    payload = text
  }
  if (payload !== undefined && draft.contentType !== undefined) headers['content-type'] = draft.contentType
  // An empty or dot-segment path parameter resolves to another path (`/v1/plans/%2e%2e` is `/v1`).
  const exact = draft.method === op.method && draft.suffix === '' &&
    op.params.every((p) => p.in !== 'path' || !/^(|\.|\.\.|%2e|%2e%2e|\.%2e|%2e\.)$/i.test(draft.pathRaw[p.name] ?? encodeLoose(draft.path[p.name] ?? '')))
  return { operation: op.id, strategy: draft.strategy, auth, exact, method: draft.method, url, headers, ...(payload !== undefined ? { payload } : {}) }
}

/** The fast-check arbitrary of requests for one operation. */
export function requestArbitrary (op: Operation, ctx: Context): fc.Arbitrary<FuzzRequest> {
  return fc.gen().map((gen) => {
    const g: G = { fc: gen, next: mulberry32(gen(fc.integer, { min: -(2 ** 31), max: 2 ** 31 - 1 })) }
    const draft = validDraft(g, op, ctx)
    breakDraft(g, op, draft, ctx)
    return materialise(g, op, draft, ctx)
  })
}
