import { ARB, chance, draw, int, pick, weighted, type G } from './random.ts'
import type { Context, Draft } from './generate.ts'
import {
  ACCEPT_HEADERS, BROKEN_JSON, breakJson, CONDITION_HEADERS, INVALID_UTF8, NASTY_NUMBER_LITERALS,
  NASTY_STRINGS, PROTO_KEYS, WRONG_CONTENT_TYPES, WRONG_TYPED
} from './payloads.ts'
import type { Operation, Param } from './spec.ts'

/**
 * Strategies that break a valid request: wrong types, extra and prototype keys, hostile
 * strings and numbers, arbitrary JSON, raw bytes, broken JSON, wrong content types, huge
 * bodies, odd queries, paths and headers, CSV, another method or route.
 */

/** Rows of a `{ values: [...] }` body as CSV with a header row (breakdown as `k:v,k:v`). */
export function toCsv (g: G, body: unknown): string {
  const rows = (Array.isArray((body as { values?: unknown[] })?.values) ? (body as { values: unknown[] }).values : [body]) as Array<Record<string, unknown>>
  const columns = [...new Set(rows.flatMap((r) => (r !== null && typeof r === 'object' ? Object.keys(r) : [])))]
  const cell = (v: unknown) => {
    const text = v === null || v === undefined ? '' : typeof v === 'object' ? Object.entries(v).map(([k, x]) => `${k}:${String(x)}`).join(',') : String(v)
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
  }
  const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r?.[c])).join(','))]
  return lines.join(chance(g, 0.2) ? '\r\n' : '\n') + (chance(g, 0.8) ? '\n' : '')
}

type Slot = { get: () => unknown, set: (v: unknown) => void, key: string }

/** Every place in the body where a value sits (object members and array items). */
function slots (value: unknown, out: Slot[] = []): Slot[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ get: () => value[i], set: (x) => { value[i] = x }, key: String(i) })
      slots(v, out)
    })
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    for (const k of Object.keys(o)) {
      out.push({ get: () => o[k], set: (x) => { o[k] = x }, key: k })
      slots(o[k], out)
    }
  }
  return out
}

function objectsIn (value: unknown, out: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  if (Array.isArray(value)) for (const v of value) objectsIn(v, out)
  else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>)
    for (const v of Object.values(value)) objectsIn(v, out)
  }
  return out
}

function nastyString (g: G): string {
  switch (int(g, 0, 9)) {
    case 0: return draw(g, ARB.binary)
    case 1: return draw(g, ARB.binaryAscii)
    case 2: return pick(g, NASTY_STRINGS) + pick(g, NASTY_STRINGS)
    default: return pick(g, NASTY_STRINGS)
  }
}

const hugeString = (g: G) => pick(g, ['x', '三', '\u0000', '９', '\'']).repeat(pick(g, [1_001, 10_000, 100_000, 400_000]))

/** Replaces one query parameter, path parameter or header value; returns false when there is none. */
function replaceParam (g: G, op: Operation, draft: Draft, make: (p: Param) => string, encoded = false): boolean {
  const candidates = op.params.filter((p) => p.in !== 'header' || p.name in draft.headers)
  if (candidates.length === 0) return false
  const p = pick(g, candidates)
  const v = make(p)
  if (p.in === 'path') {
    if (encoded) draft.pathRaw[p.name] = v
    else draft.path[p.name] = v
  } else if (p.in === 'query') {
    draft.query = draft.query.filter(([k]) => k !== p.name)
    if (encoded) draft.queryRaw.push(`${p.name}=${v}`)
    else draft.query.push([p.name, v])
  } else {
    draft.headers[p.name] = v
  }
  return true
}

const hasBody = (draft: Draft) => draft.body !== undefined && draft.bodyType === 'application/json'

type Strategy = 'valid' | 'wrong-type' | 'extra-property' | 'nasty-string' | 'nasty-number' | 'arbitrary-json' | 'raw-bytes' |
  'broken-json' | 'content-type' | 'huge' | 'query' | 'path' | 'headers' | 'get-with-body' | 'route' | 'csv'

function strategies (op: Operation): Array<[Strategy, number]> {
  const body = op.body !== undefined
  const path = op.params.some((p) => p.in === 'path')
  const query = op.params.some((p) => p.in === 'query')
  const csv = body && op.body!.content['text/csv'] !== undefined
  return [
    ['valid', body ? 28 : 38],
    ['wrong-type', 8],
    ['extra-property', body ? 7 : (query ? 4 : 0)],
    ['nasty-string', body ? 14 : 18],
    ['nasty-number', body ? 6 : (query ? 4 : 0)],
    ['arbitrary-json', body ? 5 : 0],
    ['raw-bytes', body ? 3 : 0],
    ['broken-json', body ? 4 : 0],
    ['content-type', body ? 5 : 0],
    ['huge', 2],
    ['query', query ? 6 : 2],
    ['path', path ? 5 : 0],
    ['headers', 5],
    ['get-with-body', body ? 0 : 2],
    ['route', 1],
    ['csv', csv ? 6 : 0]
  ]
}

export function breakDraft (g: G, op: Operation, draft: Draft, ctx: Context): void {
  const strategy = weighted(g, strategies(op))
  draft.strategy = strategy
  switch (strategy) {
    case 'valid': break
    case 'wrong-type': {
      const targets = hasBody(draft) ? slots(draft.body) : []
      if (targets.length > 0 && chance(g, 0.7)) {
        const slot = pick(g, targets)
        const current = slot.get()
        const others = WRONG_TYPED.filter((v) => typeof v !== typeof current || Array.isArray(v) !== Array.isArray(current))
        slot.set(structuredClone(pick(g, others)))
      } else if (hasBody(draft) && chance(g, 0.5)) {
        draft.body = structuredClone(pick(g, WRONG_TYPED))
      } else {
        replaceParam(g, op, draft, () => pick(g, ['abc', '1.5', '-1', '0', 'true', '[]', '{}', '', 'null', '2020-01-01', '１２３']))
      }
      break
    }
    case 'extra-property': {
      const objects = hasBody(draft) ? objectsIn(draft.body) : []
      if (objects.length > 0) {
        const target = pick(g, objects)
        const key = chance(g, 0.5) ? pick(g, PROTO_KEYS) : draw(g, ARB.key)
        // defineProperty: a plain assignment to __proto__ would set the prototype, not a member.
        Object.defineProperty(target, key, { value: chance(g, 0.5) ? { polluted: true, isAdmin: true } : draw(g, ARB.json2), enumerable: true, writable: true, configurable: true })
      } else {
        draft.queryRaw.push(pick(g, ['__proto__[polluted]=1', 'constructor[prototype][x]=1', '__proto__=1', 'unknown=1', 'limit=1&limit=2', 'x[]=1&x[]=2', 'toString=1']))
      }
      break
    }
    case 'nasty-string': {
      const strings = hasBody(draft) ? slots(draft.body).filter((s) => typeof s.get() === 'string') : []
      const value = nastyString(g)
      if (strings.length > 0 && chance(g, 0.6)) pick(g, strings).set(value)
      else if (!replaceParam(g, op, draft, () => value) && hasBody(draft)) {
        const all = slots(draft.body)
        if (all.length > 0) pick(g, all).set(value)
      }
      break
    }
    case 'nasty-number': {
      const literal = pick(g, NASTY_NUMBER_LITERALS)
      const targets = hasBody(draft) ? slots(draft.body) : []
      if (targets.length > 0 && chance(g, 0.7)) {
        const numeric = targets.filter((s) => typeof s.get() === 'number')
        const sentinel = `\u0001splice${draft.splices.length}\u0001`
        pick(g, numeric.length > 0 && chance(g, 0.7) ? numeric : targets).set(sentinel)
        draft.splices.push([JSON.stringify(sentinel), literal])
      } else {
        replaceParam(g, op, draft, () => literal)
      }
      break
    }
    case 'arbitrary-json':
      draft.body = chance(g, 0.5) ? draw(g, ARB.json4) : draw(g, ARB.object2)
      draft.bodyType = 'application/json'
      draft.contentType = pick(g, ['application/json', 'application/json', 'application/merge-patch+json'])
      draft.payload = undefined
      break
    case 'raw-bytes': {
      const bytes = draw(g, ARB.bytes)
      draft.payload = chance(g, 0.5) ? Buffer.from(bytes) : Buffer.concat([Buffer.from(pick(g, INVALID_UTF8)), Buffer.from(JSON.stringify(draft.body ?? {}))])
      break
    }
    case 'broken-json':
      draft.payload = chance(g, 0.5) ? pick(g, BROKEN_JSON) : breakJson(JSON.stringify(draft.body ?? {}), int(g, 0, 200), int(g, 0, 5))
      draft.contentType = 'application/json'
      break
    case 'content-type':
      draft.contentType = pick(g, WRONG_CONTENT_TYPES)
      break
    case 'huge': {
      const strings = hasBody(draft) ? slots(draft.body) : []
      if (strings.length > 0 && chance(g, 0.6)) pick(g, strings).set(hugeString(g))
      else if (hasBody(draft) && chance(g, 0.5)) {
        // Many copies of the body's first array item (array-length limits), or one >1 MiB string.
        const arrays = slots(draft.body).filter((s) => Array.isArray(s.get()) && (s.get() as unknown[]).length > 0)
        if (arrays.length > 0) {
          const slot = pick(g, arrays)
          const item = (slot.get() as unknown[])[0]
          slot.set(Array.from({ length: pick(g, [1_001, 5_000]) }, () => item))
        } else {
          draft.payload = JSON.stringify({ pad: 'x'.repeat(1_100_000) })
        }
      } else {
        replaceParam(g, op, draft, () => hugeString(g).slice(0, pick(g, [300, 5_000, 20_000])))
      }
      break
    }
    case 'query': {
      const real = ctx.pools.cursors.length > 0 ? pick(g, ctx.pools.cursors) : 'WzFd'
      draft.queryRaw.push(pick(g, [
        'limit=0', 'limit=-1', 'limit=1001', 'limit=1e999', 'limit=1.5', 'limit=0x10', 'limit=%EF%BC%91', 'limit=', 'limit=1&limit=2',
        `cursor=${real}x`, `cursor=${real.slice(0, -2)}`, `cursor=${Buffer.from('["\'; select 1 --"]').toString('base64url')}`,
        `cursor=${Buffer.from('[1e999]').toString('base64url')}`, `cursor=${Buffer.from('{"__proto__":1}').toString('base64url')}`,
        `cursor=${Buffer.from('[null,null,null]').toString('base64url')}`, `cursor=${Buffer.from('[-1,"x"]').toString('base64url')}`,
        `after=${real}`, 'after=-1', 'after=99999999999999999999', 'q=%00', 'q=%ED%A0%80', 'q=%E0%A4%A', 'q=%', 'q=%25', 'q=_%25',
        'breakdown=category:mental,sex:female', 'breakdown=category:mental,category:visual', 'breakdown=total', 'breakdown=*',
        'breakdown=grade:9', 'breakdown=:', 'format=xml', 'format=csv', 'includeDescendants=yes', 'latest=1', 'from=2030&to=2010',
        'level=planet', 'year=1e3', 'asOf=20x', 'dryRun=maybe', 'mode=atomic&mode=partial', 'within=%EF%BC%93%EF%BC%93%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90'
      ]))
      break
    }
    case 'path':
      replaceParam(g, { ...op, params: op.params.filter((p) => p.in === 'path') }, draft, () => pick(g, [
        '%00', '%ED%A0%80', '%EF%BC%93%EF%BC%93%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90', '..%2F..%2Fhealth%2Flive', '%2e%2e', '330000%20',
        '330000%3Bx', '%', '%zz', '%25', '%27%3B%20drop%20table%20regions%3B%20--', '1'.repeat(5000), '-1', '0', '1e3', '9007199254740993',
        '1.0', '%20', 'NaN', '__proto__', 'constructor', '330000%0A'
      ]), true)
      break
    case 'headers':
      if (chance(g, 0.4)) Object.assign(draft.headers, pick(g, CONDITION_HEADERS))
      else if (chance(g, 0.5)) draft.headers.accept = pick(g, ACCEPT_HEADERS)
      else {
        Object.assign(draft.headers, pick(g, [
          { 'x-request-id': 'x'.repeat(2000) }, { 'x-request-id': '\'; select 1 --' }, { 'idempotency-key': 'k'.repeat(300) },
          { 'idempotency-key': 'has space' }, { 'idempotency-key': '' }, { 'content-encoding': 'gzip' }, { 'transfer-encoding': 'chunked' },
          { 'x-forwarded-for': '127.0.0.1, ::1, garbage' }, { 'accept-charset': 'utf-16' }, { 'if-modified-since': 'yesterday' }
        ]))
      }
      break
    case 'get-with-body':
      draft.payload = JSON.stringify(draw(g, ARB.json2) ?? null)
      draft.contentType = 'application/json'
      break
    case 'route':
      draft.suffix = pick(g, ['/', '//', '/extra', '/%00', '/..', '?', '#frag'])
      if (chance(g, 0.5)) draft.method = pick(g, ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'])
      break
    case 'csv':
      draft.contentType = 'text/csv'
      draft.payload = pick(g, [
        '', 'kind', 'kind,regionCode,indicatorCode,year\n', 'kind,regionCode,indicatorCode,year\nactual,330000,x,2020,extra\n',
        'kind,kind,regionCode,indicatorCode,year\nactual,actual,330000,new-employment,2020\n', 'bogus,columns\n1,2\n',
        'kind,regionCode,indicatorCode,year\n"actual,330000,new-employment,2020\n', '\ufeffkind,regionCode,indicatorCode,year,value\nactual,330000,new-employment,2020,1e999\n',
        'kind,regionCode,indicatorCode,year,value\nactual,３３００００,new-employment,２０２０,NaN\n', 'kind,regionCode,indicatorCode,year,note\nactual,330000,new-employment,2020,a\u0000b\n',
        'kind,regionCode,indicatorCode,year,breakdown\nactual,330000,new-employment,2020,category:mental,sex:female\n',
        `kind,regionCode,indicatorCode,year,source\nactual,330000,new-employment,2020,${'x'.repeat(100_000)}\n`,
        'kind;regionCode;indicatorCode;year\nactual;330000;new-employment;2020\n', toCsv(g, { values: [draw(g, ARB.object1)] })
      ])
      break
  }
}
