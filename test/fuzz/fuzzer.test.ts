import fc from 'fast-check'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import Fastify from 'fastify'
import t from 'tap'
import { build, tokenFor } from '../helper.ts'
import { runFuzz, seedFor } from './fuzz.ts'
import { requestArbitrary, type Context } from './generate.ts'
import { judge } from './oracle.ts'
import { loadSpec, type Schema } from './spec.ts'

/**
 * The fuzzer's own tests (a fuzzer that cannot fail is a defect): the oracle rejects each
 * kind of broken answer, the generator is reproducible and sends every hostile input
 * payloads.ts lists, and a planted bug is found end to end.
 */
const spec = loadSpec(new URL('../../openapi/openapi.json', import.meta.url))
const op = (id: string) => spec.operations.find((o) => o.id === id)!

/** A throwaway server answering exactly what a test needs. */
async function answer (status: number, body: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const app = Fastify()
  app.get('/', async (_req, reply) => reply.code(status).headers(headers).send(body))
  const res = await app.inject('/')
  await app.close()
  return res
}

const problem = (status: number, extra: Record<string, unknown> = {}) => JSON.stringify({
  type: 'urn:indicator-registry:problem:x', title: 'X', status, detail: 'd', instance: '/v1/regions/330000', code: 'X', ...extra
})
const region = JSON.stringify({ code: '330000', name: '浙江省', nameEn: null, level: 'province', parentCode: '100000', revision: 1, createdAt: '2026-01-05T08:00:00.000Z', updatedAt: '2026-01-05T08:00:00.000Z' })
const PJ = { 'content-type': 'application/problem+json' }
const J = { 'content-type': 'application/json' }

t.test('the oracle', async (t) => {
  const getRegion = op('getRegion')
  const verdict = async (status: number, body: string, headers: Record<string, string>, sent: string[] = [], method = 'GET') =>
    judge(spec, getRegion, { method, auth: 'token', exact: true }, true, await answer(status, body, headers), (f) => sent.some((s) => s.toLowerCase().includes(f.toLowerCase()))).failures

  t.same(await verdict(200, region, J), [], 'a documented 200 passes')
  t.same(await verdict(404, problem(404), PJ), [], 'a problem passes')
  t.match(await verdict(500, problem(500), PJ), [/server error 500/], '5xx fails')
  t.match(await verdict(503, problem(503), PJ), [/server error 503/], '503 fails too')
  t.match(await verdict(400, '{"statusCode":400,"error":"Bad Request"}', J), [/not application\/problem\+json/], 'a plain JSON error fails')
  t.match(await verdict(404, problem(400), PJ), [/differs from the HTTP status/], 'status must match')
  t.match(await verdict(404, problem(404, { stack: 'x' }), PJ), [/Problem schema/], 'unknown problem members fail')
  t.match(await verdict(200, JSON.stringify({ ...JSON.parse(region), level: 'planet' }), J), [/response schema/], 'a 2xx off its schema fails')
  t.match(await verdict(422, problem(422, { detail: 'insert into "regions" values ($1) violates constraint' }), PJ), [/leak/], 'SQL text fails')
  t.match(await verdict(500, problem(500, { detail: 'at handler (/app/src/x.ts:12:3)' }), PJ), [/server error/, /leak/], 'stack text fails')
  t.same(await verdict(404, problem(404, { detail: 'No region has code \'; delete from regions --.' }), PJ, ['\'; delete from regions --']), [], 'an echo of the request is not a leak')
  t.match(await verdict(401, problem(401), PJ), [/401 with the admin token/], 'the admin token refused fails')
  t.same(judge(spec, getRegion, { method: 'GET', auth: 'garbage', exact: true }, true, await answer(401, problem(401), PJ), () => false).failures, [], 'a bad token may be refused')
  // Fastify itself drops a 204's body; a bare handler or a proxy might not.
  const with204Body = { ...await answer(204, '', {}), rawPayload: Buffer.from('x') } as LightMyRequestResponse
  t.match(judge(spec, op('deleteRegion'), { method: 'DELETE', auth: 'token', exact: true }, true, with204Body, () => false).failures, [/204 with a body/], '204 has no body')
  t.match(judge(spec, op('createRegion'), { method: 'POST', auth: 'token', exact: true }, true, await answer(201, region, J), () => false).failures, [/Location/], '201 needs a Location')
})

t.test('the generator', async (t) => {
  const bodies = new Map<string, Schema>()
  for (const o of spec.operations) if (o.body?.content['application/json'] !== undefined) bodies.set(`${o.method} ${o.path}`, o.body.content['application/json'])
  const ctx: Context = {
    pools: { regions: [{ code: '330000', level: 'province' }, { code: '331003', level: 'county' }], indicators: ['new-employment'], plans: [{ id: 'huangyan-disability-14th-fyp', regionCode: '331003', startYear: 2021, endYear: 2025 }], values: [1], tokens: [], cursors: ['WyJ4Il0'] },
    token: 'irt_000000000000_secret',
    bodies
  }
  const sample = (id: string, n: number, seed = 1) => {
    const arb = requestArbitrary(op(id), ctx)
    return Array.from({ length: n }, (_, i) => fc.sample(arb, { seed: seedFor(seed, id, i), numRuns: 1 })[0]!)
  }
  t.same(sample('createValue', 50), sample('createValue', 50), 'one seed, one stream')
  t.not(JSON.stringify(sample('createValue', 50)), JSON.stringify(sample('createValue', 50, 2)), 'another seed, another stream')

  const text = [...sample('createValue', 1500), ...sample('getRegion', 600), ...sample('importValues', 600)].map((r) => {
    const payload = r.payload === undefined ? '' : Buffer.isBuffer(r.payload) ? `bytes:${r.payload.length}` : r.payload
    return `${r.strategy} ${r.auth} ${r.url} ${JSON.stringify(r.headers)} ${payload}`
  }).join('\n')
  const wanted: Record<string, RegExp> = {
    'valid requests': /^valid token /m,
    'NUL bytes': /\\u0000|%00/,
    'lone surrogates': /\\ud800|\\udfff|%ED%A0%80/i,
    '__proto__ keys': /"__proto__"/,
    '1e999': /1e999/,
    NaN: /NaN/,
    'full-width digits': /３３|%EF%BC%93/,
    'SQL-looking strings': /drop table regions|OR 1=1|delete from yearly_values|update regions set|union select/,
    'huge strings': /x{100000}/,
    'raw bytes': /^raw-bytes .*bytes:\d+/m,
    'broken JSON': /^broken-json /m,
    'wrong content types': /"content-type":"(text\/plain|application\/xml)"/,
    'arbitrary JSON': /^arbitrary-json /m,
    'wrong types': /^wrong-type /m,
    'extra properties': /^extra-property /m,
    CSV: /"content-type":"text\/csv"/,
    'no token': /^\S+ none /m,
    'a bad token': /^\S+ garbage /m
  }
  for (const [what, pattern] of Object.entries(wanted)) t.match(text, pattern, `sends ${what}`)
})

t.test('a planted bug is found, with the seed and the request', async (t) => {
  const app = await build(t, { seed: true, auth: 'none', rateLimit: { max: 0, windowMs: 60_000, allow: [] } })
  const token = await tokenFor(app, 'admin')
  // The service, except that a full-width digit in a region code now "crashes" it and a
  // 404 now leaks SQL: what a regression would look like.
  const broken = {
    inject: async (opts: InjectOptions) => {
      const res = await app.inject(opts)
      if (/^\/v1\/regions\/[^/?]*%EF%BC/.test(String(opts.url))) return { ...res, statusCode: 500 }
      // (A driver's message as well as the SQL: the fuzzer itself sends SQL-looking text, in
      // headers too, and the oracle does not count an echo of what was sent as a leak.)
      if (res.statusCode === 404) return { ...res, body: res.body.replace('"detail":"', '"detail":"relation \\"regions\\" is locked: select * from regions where code = $1: ') }
      return res
    }
  } as unknown as FastifyInstance
  const lines: string[] = []
  const result = await runFuzz(broken, { seed: 7, token, reads: 120, writes: 0, only: ['getRegion'], log: (l) => lines.push(l), failureDir: t.testdir() })
  t.ok(result.failureCount > 0, `found ${result.failureCount} failures`)
  t.ok(Object.keys(result.groups).some((g) => /500 server error/.test(g)), 'the 500')
  t.ok(Object.keys(result.groups).some((g) => /404 leak/.test(g)), 'the leak')
  t.match(lines.join('\n'), /FUZZ FAILURE 1: FUZZ_SEED=7 operation getRegion/, 'the seed is printed with the failure')
  t.match(lines.join('\n'), /GET \/v1\/regions\//, 'and the request')
})
