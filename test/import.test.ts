import t from 'tap'
import { IMPORT_SEGMENT_ROWS } from '../src/modules/imports/imports.service.ts'
import { checkValues, loadReferences } from '../src/modules/values/values.check.ts'
import { naturalKey, naturalKeyAsSent } from '../src/modules/values/values.model.ts'
import { BULK_STATEMENT_ROWS } from '../src/modules/values/values.writer.ts'
import { build, call, collect, createIndicator, createPlan, createRegions, feedSettled, json } from './helper.ts'

const app = await build(t)
await createRegions(app)
await createIndicator(app)
await createIndicator(app, { code: 'new-employment', name: '新增残疾人就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createPlan(app)

const row = (overrides: Record<string, unknown> = {}) => ({
  kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year: 2021, value: '120', ...overrides
})
const post = (values: unknown[], query = '', headers: Record<string, string> = {}) =>
  call(app, 'POST', `/v1/values/import${query}`, { values }, headers)

t.test('upsert by natural key; the same file twice changes nothing', async (t) => {
  const values = [
    row(),
    row({ year: 2022, value: 130.5 }),
    row({ breakdown: { sex: 'female' }, value: '50' }),
    row({ fromYear: 2021, year: 2025, value: '700', note: '五年累计' }),
    row({ kind: 'target', planId: 'huangyan-14th-fyp', year: 2025, value: '140', comparator: 'at-least' }),
    row({ regionCode: '330683', indicatorCode: 'hardship-subsidy-coverage', value: 99.5, status: 'provisional', asOf: '2021-09-30' })
  ]
  const first = await post(values)
  t.equal(first.statusCode, 200, first.body)
  t.same(json(first), { received: 6, created: 6, updated: 0, unchanged: 0, rejected: 0, dryRun: false, mode: 'atomic', errors: [], errorsTruncated: false })

  const second = await post(values)
  t.match(json(second), { received: 6, created: 0, updated: 0, unchanged: 6 })

  const changed = await post([row({ value: '121' }), row({ year: 2023, value: '140' })])
  t.match(json(changed), { created: 1, updated: 1, unchanged: 0 })
  const stored = await collect(app, '/v1/values?region=331003&indicator=new-employment&kind=actual&from=2021&to=2021')
  t.match(stored, [{ year: 2021, value: '121', revision: 2 }])
  const history = json(await app.inject(`/v1/values/${stored[0].id}/history`))
  t.same(history.items.map((e: { op: string }) => e.op), ['create', 'update'], 'an import revision is in the history')
})

t.test('atomic (default): one bad row and nothing is written', async (t) => {
  const before = (await collect(app, '/v1/values?breakdown=*')).length
  const res = await post([
    row({ year: 2030, value: '1' }),
    row({ year: 2031, value: 'abc' }),
    row({ year: 2032, indicatorCode: 'no-such-indicator' }),
    row({ year: 2033, regionCode: '999999' }),
    row({ year: 2034, unknownField: 1 }),
    row({ year: 2035, regionCode: '330683', indicatorCode: 'hardship-subsidy-coverage', value: 101 })
  ])
  t.equal(res.statusCode, 422)
  t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
  const body = json(res)
  t.equal(body.code, 'IMPORT_REJECTED')
  t.match(body.summary, { received: 6, created: 0, rejected: 5 })
  t.same(body.errors.map((e: { row: number }) => e.row), [2, 3, 4, 5, 6])
  t.match(body.errors, [
    { row: 2, field: '/value' },
    { row: 3, field: '/indicatorCode', code: 'not-found' },
    { row: 4, field: '/regionCode', code: 'not-found' },
    { row: 5, field: '/unknownField' },
    { row: 6, field: '/value', code: 'out-of-range' }
  ])
  t.equal((await collect(app, '/v1/values?breakdown=*')).length, before, 'nothing written')
})

t.test('partial: the valid rows are written, the others reported', async (t) => {
  const res = await post([row({ year: 2040, value: '1' }), row({ year: 2041, value: -5, indicatorCode: 'hardship-subsidy-coverage' }), row({ year: 2042, value: '3' })], '?mode=partial')
  t.equal(res.statusCode, 200)
  t.match(json(res), { received: 3, created: 2, rejected: 1, mode: 'partial', errors: [{ row: 2, code: 'out-of-range' }] })
})

t.test('two rows with the same key are both rejected', async (t) => {
  const res = await post([row({ year: 2050, value: '1' }), row({ year: 2051 }), row({ year: 2050, value: '2' })], '?mode=partial')
  t.match(json(res), { created: 1, rejected: 2 })
  t.same(json(res).errors.map((e: { row: number, code: string }) => [e.row, e.code]), [[1, 'duplicate-key'], [3, 'duplicate-key']])
  t.equal((await collect(app, '/v1/values?region=331003&indicator=new-employment&from=2050&to=2050')).length, 0)
})

t.test('dryRun counts exactly and writes nothing', async (t) => {
  const values = [row({ year: 2060, value: '1' }), row({ value: '121' }), row({ value: '999', year: 2022 })]
  const dry = await post(values, '?dryRun=true')
  t.equal(dry.statusCode, 200)
  t.match(json(dry), { dryRun: true, created: 1, unchanged: 1, updated: 1 })
  t.equal((await collect(app, '/v1/values?region=331003&indicator=new-employment&from=2060&to=2060')).length, 0)
  const real = await post(values)
  t.match(json(real), { dryRun: false, created: 1, unchanged: 1, updated: 1 }, 'the real run reports what the dry run said')
})

t.test('CSV body, parsed as a stream, with the same columns', async (t) => {
  const csv = [
    'kind,regionCode,indicatorCode,fromYear,year,breakdown,value,status,note',
    'actual,331003,new-employment,,2070,,10,final,"备注, 含逗号"',
    'actual,331003,new-employment,,2070,category:mental,4,,',
    'actual,331003,new-employment,2066,2070,,44,estimated,'
  ].join('\n') + '\n'
  const res = await app.inject({ method: 'POST', url: '/v1/values/import', headers: { 'content-type': 'text/csv' }, payload: csv })
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: 3, created: 3 })
  const mental = await collect(app, '/v1/values?region=331003&from=2070&to=2070&breakdown=category:mental')
  t.match(mental, [{ value: '4', breakdown: { category: 'mental' }, status: 'final' }])
  const noted = await collect(app, '/v1/values?region=331003&from=2070&to=2070')
  t.match(noted, [{ note: '备注, 含逗号' }])

  const badHeader = await app.inject({ method: 'POST', url: '/v1/values/import', headers: { 'content-type': 'text/csv' }, payload: 'kind,region,year\nactual,331003,2020\n' })
  t.equal(badHeader.statusCode, 400)
  t.match(json(badHeader).errors, [{ field: '/header/region', code: 'unknown-column' }])

  const badRow = await app.inject({ method: 'POST', url: '/v1/values/import', headers: { 'content-type': 'text/csv' }, payload: 'kind,regionCode,indicatorCode,year,value\nactual,331003,new-employment,20x0,1\n' })
  t.equal(badRow.statusCode, 422)
  t.match(json(badRow).errors, [{ row: 1, field: '/year' }])

  const broken = await app.inject({ method: 'POST', url: '/v1/values/import', headers: { 'content-type': 'text/csv' }, payload: 'kind,regionCode\n"actual,331003\n' })
  t.equal(broken.statusCode, 400)
})

t.test('Idempotency-Key: a retry replays, a different body is 422', async (t) => {
  const values = [row({ year: 2080, value: '8' })]
  const headers = { 'idempotency-key': 'nightly-2026-11-25-331003' }
  const first = await post(values, '', headers)
  t.match(json(first), { created: 1 })
  t.notOk(first.headers['idempotent-replayed'])
  // change the stored value in between: a replay still answers the first answer, without importing again
  const id = (await collect(app, '/v1/values?region=331003&from=2080&to=2080'))[0].id
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { value: '9' })).statusCode, 200)
  const retry = await post(values, '', headers)
  t.equal(retry.statusCode, 200)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.same(json(retry), json(first))
  t.match((await collect(app, '/v1/values?region=331003&from=2080&to=2080'))[0], { value: '9' }, 'the retry did not import again')

  const other = await post([row({ year: 2081 })], '', headers)
  t.equal(other.statusCode, 422)
  t.equal(json(other).code, 'IDEMPOTENCY_KEY_REUSED')

  const bad = await post(values, '', { 'idempotency-key': 'has space' })
  t.equal(bad.statusCode, 400)
})

t.test('20 concurrent identical requests execute once', async (t) => {
  const values = Array.from({ length: 50 }, (_, i) => row({ year: 1990 + (i % 30), regionCode: i < 30 ? '331004' : '330683', value: String(i) }))
  const headers = { 'idempotency-key': 'concurrent-1' }
  const answers = await Promise.all(Array.from({ length: 20 }, () => post(values, '', headers)))
  t.ok(answers.every((a) => a.statusCode === 200))
  const bodies = answers.map((a) => json(a))
  t.ok(bodies.every((b) => JSON.stringify(b) === JSON.stringify(bodies[0])), 'every answer is the first answer')
  t.equal(bodies[0].created, 50)
  t.equal(answers.filter((a) => a.headers['idempotent-replayed'] !== 'true').length, 1, 'one execution')
})

t.test('limits and bad requests', async (t) => {
  const tooMany = await post(Array.from({ length: 100_001 }, () => ({})))
  t.equal(tooMany.statusCode, 413)
  t.equal(json(tooMany).code, 'PAYLOAD_TOO_LARGE')
  t.equal((await call(app, 'POST', '/v1/values/import', { rows: [] })).statusCode, 400)
  t.equal((await call(app, 'POST', '/v1/values/import?mode=eventual', { values: [] })).statusCode, 400)
  const empty = await post([])
  t.match(json(empty), { received: 0, created: 0 })
})

t.test('requests larger than one chunk: atomic rolls back written chunks, partial writes the rest', async (t) => {
  const categories = [undefined, 'visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple']
  const many = Array.from({ length: 2400 }, (_, i) => row({
    regionCode: i % 2 === 0 ? '330683' : '331003',
    fromYear: 1949 + (Math.floor(i / 2) % 150),
    year: 2100,
    value: String(i),
    ...(categories[Math.floor(i / 300)] !== undefined ? { breakdown: { category: categories[Math.floor(i / 300)] } } : {})
  }))
  // Its key sorts after every other row's: it is checked in the last chunk, after the others were written.
  const bad = row({ fromYear: 2100, year: 2100, breakdown: { sex: 'male' }, value: '-1' })
  const count = async () => (await collect(app, '/v1/values?from=1949&to=2100&breakdown=*')).filter((v: { year: number }) => v.year === 2100).length
  t.equal(await count(), 0)

  const atomic = await post([...many, bad])
  t.equal(atomic.statusCode, 422)
  t.match(json(atomic).summary, { received: 2401, created: 0, updated: 0, unchanged: 0, rejected: 1 })
  t.match(json(atomic).errors, [{ row: 2401, field: '/value', code: 'out-of-range' }])
  t.equal(await count(), 0, 'nothing stays of the chunks written before the bad row')

  const dry = await post([...many, bad], '?mode=partial&dryRun=true')
  t.match(json(dry), { received: 2401, created: 2400, rejected: 1, dryRun: true })
  t.equal(await count(), 0)

  const partial = await post([bad, ...many], '?mode=partial')
  t.match(json(partial), { received: 2401, created: 2400, updated: 0, unchanged: 0, rejected: 1, errors: [{ row: 1, code: 'out-of-range' }] })
  t.equal(await count(), 2400)
  t.match(json(await post(many)), { created: 0, updated: 0, unchanged: 2400 })
})

t.test('a row sharing its key with a rejected row is not a duplicate', async (t) => {
  const res = await post([row({ year: 2052, value: '1' }), row({ year: 2052, value: '-1' }), row({ year: 2052, value: 'x' })], '?mode=partial')
  t.match(json(res), { created: 1, rejected: 2 })
  t.same(json(res).errors.map((e: { row: number, code: string }) => [e.row, e.code]), [[2, 'out-of-range'], [3, 'pattern']])
})

t.test('new rows with one stored key among them: counts, feed and history as for any upsert', async (t) => {
  // On PostgreSQL a batch is first tried as COPY; the stored key (sorted last) makes it fail
  // after the new rows were copied, and the batch is written again by the upsert. Nothing of
  // the failed attempt may remain: no row, no feed entry, no revision.
  await createIndicator(app, { code: 'copy-fallback', min: 0, max: null })
  const stored = await post([row({ indicatorCode: 'copy-fallback', year: 2099, value: '1' })])
  t.match(json(stored), { created: 1 })
  await feedSettled(app)
  const feedStart = json(await app.inject('/v1/changes?limit=1000'))
  let cursor: string = feedStart.nextCursor
  for (let page = feedStart; page.hasMore; cursor = page.nextCursor) page = json(await app.inject(`/v1/changes?limit=1000&after=${cursor}`))

  const fresh = Array.from({ length: 300 }, (_, i) => row({ indicatorCode: 'copy-fallback', year: 1950 + i % 149, fromYear: 1950 + i % 149, regionCode: i < 149 ? '331003' : i < 298 ? '330683' : '331004', value: String(i) }))
  const res = await post([...fresh, row({ indicatorCode: 'copy-fallback', year: 2099, value: '2' })])
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: 301, created: 300, updated: 1, unchanged: 0, rejected: 0 })
  const values = await collect(app, '/v1/values?indicator=copy-fallback&from=1949&to=2100')
  t.equal(values.length, 301, 'each row once')
  t.ok(values.every((v: { revision: number, year: number }) => v.revision === (v.year === 2099 ? 2 : 1)), 'one revision per new row, two for the updated one')

  await feedSettled(app)
  const feed = json(await app.inject(`/v1/changes?limit=1000&after=${cursor}`))
  const keys = feed.items.filter((c: { entity: string }) => c.entity === 'value').map((c: { key: string, revision: number }) => `${c.key}@${c.revision}`)
  t.equal(keys.length, 301, 'one feed entry per written value, none from the failed attempt')
  t.equal(new Set(keys).size, 301)
  t.same(json(await post([...fresh])), { received: 300, created: 0, updated: 0, unchanged: 300, rejected: 0, dryRun: false, mode: 'atomic', errors: [], errorsTruncated: false }, 'sent again: all unchanged')
})

t.test('text with tabs, line breaks, backslashes and a literal \\N survives the bulk path unchanged', async (t) => {
  await createIndicator(app, { code: 'copy-text', min: 0, max: null })
  const note = 'a\tb\nc\r\nd \\ e \\N f \\t g'
  const res = await post([row({ indicatorCode: 'copy-text', year: 2098, value: '3', note, source: '\\N' }), row({ indicatorCode: 'copy-text', year: 2097, value: '4' })])
  t.match(json(res), { created: 2 }, res.body)
  const [stored] = await collect(app, '/v1/values?indicator=copy-text&from=2098&to=2098')
  t.equal(stored.note, note)
  t.equal(stored.source, '\\N', 'the text \\N is not a null')
  const [plain] = await collect(app, '/v1/values?indicator=copy-text&from=2097&to=2097')
  t.equal(plain.note, null, 'an absent note is null')
})

// The rows of an import are checked and written IMPORT_SEGMENT_ROWS at a time, in natural-key
// order (naturalKeyAsSent), the database writing one segment while the next is checked.
const sortedByKey = (rows: Array<Record<string, unknown>>) => [...rows].sort((a, b) => (naturalKeyAsSent(a) < naturalKeyAsSent(b) ? -1 : naturalKeyAsSent(a) > naturalKeyAsSent(b) ? 1 : 0))
/** The feed's entries after `cursor` (all of them for null), and the cursor to go on from. */
const feedSince = async (cursor: string | null) => {
  await feedSettled(app)
  const items: Array<{ entity: string, key: string, revision: number }> = []
  for (;;) {
    const page = json(await app.inject(`/v1/changes?limit=1000${cursor !== null ? `&after=${cursor}` : ''}`))
    items.push(...page.items)
    cursor = page.nextCursor
    if (page.hasMore !== true) return { items, cursor }
  }
}
const categories = ['visual', 'hearing', 'speech', 'physical', 'intellectual', 'mental', 'multiple']
/** n distinct rows of one indicator (three regions x 150 start years x 7 categories). */
const distinctRows = (indicatorCode: string, n: number) => Array.from({ length: n }, (_, i) => row({
  indicatorCode,
  regionCode: ['330683', '331003', '331004'][i % 3],
  fromYear: 1949 + Math.floor(i / 3) % 150,
  year: 2100,
  breakdown: { category: categories[Math.floor(i / 450) % 7] },
  value: String(i)
}))

t.test('the key as sent is the natural key of every row that passes its checks', async (t) => {
  const plan = json(await call(app, 'GET', '/v1/plans')).items[0]
  const samples: Array<Record<string, unknown>> = [
    row(),
    row({ fromYear: 2019, year: 2021, breakdown: { category: 'mental', sex: 'female', grade: '1', area: 'rural' } }),
    row({ breakdown: {}, status: 'provisional' }),
    { kind: 'target', planId: plan.id, regionCode: '331003', indicatorCode: 'new-employment', year: 2025, value: '100', comparator: 'at-least' },
    { kind: 'target', planId: plan.id, regionCode: '331003', indicatorCode: 'new-employment', fromYear: 2021, year: 2025, qualitative: '逐步提高', breakdown: { area: 'urban' } }
  ]
  const refs = await loadReferences(app.db, samples)
  for (const sample of samples) {
    const [checked] = checkValues(refs, [sample], () => '').rows
    t.ok(checked, `${JSON.stringify(sample)} passes its checks`)
    if (checked !== undefined) t.equal(naturalKeyAsSent(sample), naturalKey(checked))
  }
  t.equal(naturalKeyAsSent(null), '', 'a row that is not an object has a key too (and is rejected by its checks)')
})

t.test('key fields that are objects, even ones that cannot be turned into text, are rejected rows', async (t) => {
  const odd = { toString: 1, valueOf: 1 }
  const res = await post([row({ kind: odd, year: 2053 }), row({ regionCode: odd, year: 2053 }), row({ breakdown: { sex: odd }, year: 2053 }), row({ year: 2053 })], '?mode=partial')
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: 4, created: 1, rejected: 3 })
  t.same([...new Set(json(res).errors.map((e: { row: number }) => e.row))], [1, 2, 3])
})

t.test('a stored key met after whole segments were streamed: COPY gives way to the upsert, nothing counted twice', async (t) => {
  await createIndicator(app, { code: 'copy-late', min: 0, max: null })
  const stored = row({ indicatorCode: 'copy-late', regionCode: '331004', fromYear: 2100, year: 2100, value: '1' })
  t.match(json(await post([stored])), { created: 1 })
  const fresh = distinctRows('copy-late', 2 * IMPORT_SEGMENT_ROWS + 500)
  const changed = { ...stored, value: '2' }
  t.equal(sortedByKey([...fresh, changed]).at(-1), changed, 'the stored key sorts after every new one')

  const before = (await feedSince(null)).cursor
  const res = await post([changed, ...fresh])
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: fresh.length + 1, created: fresh.length, updated: 1, unchanged: 0, rejected: 0 })
  const values = await collect(app, '/v1/values?indicator=copy-late&from=1949&to=2100&breakdown=*')
  t.equal(values.length, fresh.length + 1, 'each row once')
  t.ok(values.every((v: { revision: number, fromYear: number }) => v.revision === (v.fromYear === 2100 ? 2 : 1)), 'one revision per new row, two for the updated one')
  t.match(values.find((v: { fromYear: number }) => v.fromYear === 2100), { value: '2' })
  const { items: feed } = await feedSince(before)
  const keys = feed.filter((c: { entity: string }) => c.entity === 'value').map((c: { key: string, revision: number }) => `${c.key}@${c.revision}`)
  t.equal(new Set(keys).size, fresh.length + 1, 'one feed entry per written value, none from the failed COPY')
  t.match(json(await post(fresh)), { created: 0, unchanged: fresh.length }, 'sent again: all unchanged')
})

t.test('atomic: a bad row after a whole statement was written leaves nothing behind', async (t) => {
  // More rows than one COPY or upsert statement takes (BULK_STATEMENT_ROWS): the first
  // statement is complete, its savepoint released, when the bad row (sorted last) is checked;
  // only rolling the transaction back undoes it.
  await createIndicator(app, { code: 'atomic-a', min: 0, max: null })
  await createIndicator(app, { code: 'atomic-b', min: 0, max: null })
  const many = [...distinctRows('atomic-a', 2700), ...distinctRows('atomic-b', 2700)]
  t.ok(many.length > BULK_STATEMENT_ROWS)
  const bad = row({ indicatorCode: 'atomic-b', regionCode: '331004', fromYear: 2100, year: 2100, value: '-1', breakdown: { sex: 'male' } })
  t.equal(sortedByKey([...many, bad]).at(-1), bad, 'the bad row sorts after every other')
  const count = async () => (await collect(app, '/v1/values?from=1949&to=2100&breakdown=*')).filter((v: { indicatorCode: string }) => v.indicatorCode.startsWith('atomic-')).length
  const res = await post([bad, ...many])
  t.equal(res.statusCode, 422, res.body)
  t.match(json(res).summary, { received: many.length + 1, created: 0, rejected: 1 })
  t.equal(await count(), 0, 'nothing written')
})

t.test('rows sharing a key where one segment would end are both found', async (t) => {
  await createIndicator(app, { code: 'segment-edge', min: 0, max: null })
  const rows = sortedByKey(distinctRows('segment-edge', IMPORT_SEGMENT_ROWS + 200))
  // The rows at sorted positions SEGMENT-1 and SEGMENT share a key: the segment is extended.
  rows[IMPORT_SEGMENT_ROWS] = { ...rows[IMPORT_SEGMENT_ROWS - 1], value: '7' }
  const sent = [...rows].reverse()
  const res = await post(sent, '?mode=partial')
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: rows.length, created: rows.length - 2, rejected: 2 })
  t.same(json(res).errors.map((e: { row: number, code: string }) => e.code), ['duplicate-key', 'duplicate-key'])
  t.same(json(res).errors.map((e: { row: number }) => e.row), [sent.length - IMPORT_SEGMENT_ROWS, sent.length - IMPORT_SEGMENT_ROWS + 1])
  t.equal((await collect(app, '/v1/values?indicator=segment-edge&from=1949&to=2100&breakdown=*')).length, rows.length - 2)
})

t.test('two concurrent imports sharing keys: each key stored once, counts add up', async (t) => {
  await createIndicator(app, { code: 'concurrent-import', min: 0, max: null })
  const all = distinctRows('concurrent-import', 3000)
  const first = all.slice(0, 2000)
  const second = [...all.slice(1000, 3000)].reverse()
  const [a, b] = await Promise.all([post(first), post(second)])
  t.equal(a.statusCode, 200, a.body)
  t.equal(b.statusCode, 200, b.body)
  const created = json(a).created + json(b).created
  t.equal(created, 3000, 'every key created once')
  t.equal(json(a).unchanged + json(b).unchanged, 1000, 'the shared keys are unchanged for the import that came second')
  t.equal((await collect(app, '/v1/values?indicator=concurrent-import&from=1949&to=2100&breakdown=*')).length, 3000)
})
