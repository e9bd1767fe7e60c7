import t from 'tap'
import { build, call, createIndicator, createRegions, json } from './helper.ts'

const app = await build(t)
await createRegions(app)
await createIndicator(app)

t.test('every write of a value is in its history, with who, when, before and after', async (t) => {
  const created = json(await call(app, 'POST', '/v1/values', {
    kind: 'actual', regionCode: '330683', indicatorCode: 'hardship-subsidy-coverage', year: 2021, value: '97.5', note: '初报'
  }))
  const id = created.id
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { value: '98.25' })).statusCode, 200)
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { value: '98.25' })).statusCode, 200)
  t.equal((await call(app, 'PATCH', `/v1/values/${id}`, { status: 'provisional', note: null })).statusCode, 200)

  const live = json(await app.inject(`/v1/values/${id}/history`))
  t.same(live.items.map((e: { revision: number, op: string }) => [e.revision, e.op]), [[1, 'create'], [2, 'update'], [3, 'update']],
    'a patch that changes nothing is not a revision')
  const [first, second, third] = live.items
  t.equal(first.before, null)
  t.match(first.after, { id, value: '97.5', note: '初报', revision: 1 })
  t.match(second.before, { value: '97.5' })
  t.match(second.after, { value: '98.25', revision: 2 }, 'decimals keep their exact text in history')
  t.match(third.after, { status: 'provisional', note: null })
  t.ok(live.items.every((e: { actor: string }) => /^[0-9a-f]{12}$/.test(e.actor)), 'the actor is the token id')
  t.ok(Date.parse(first.at) <= Date.parse(third.at))

  const page = json(await app.inject(`/v1/values/${id}/history?limit=2`))
  t.equal(page.items.length, 2)
  const rest = json(await app.inject(`/v1/values/${id}/history?limit=2&cursor=${page.nextCursor}`))
  t.same(rest.items.map((e: { revision: number }) => e.revision), [3])
  t.equal(rest.nextCursor, null)

  t.equal((await call(app, 'DELETE', `/v1/values/${id}`)).statusCode, 204)
  t.equal((await app.inject(`/v1/values/${id}`)).statusCode, 404)
  const after = json(await app.inject(`/v1/values/${id}/history`))
  const last = after.items[after.items.length - 1]
  t.match(last, { op: 'delete', revision: 3, actor: /^[0-9a-f]{12}$/, after: null })
  t.match(last.before, { value: '98.25', status: 'provisional' })
})

t.test('unknown value: 404', async (t) => {
  const res = await app.inject('/v1/values/999999/history')
  t.equal(res.statusCode, 404)
  t.equal(json(res).code, 'VALUE_NOT_FOUND')
})

t.test('seeded values are attributed to the seed loader', async (t) => {
  const seeded = await build(t, { seed: true })
  const value = json(await seeded.inject('/v1/values?region=330683&kind=actual&limit=1')).items[0]
  const history = json(await seeded.inject(`/v1/values/${value.id}/history`))
  t.match(history.items, [{ op: 'create', actor: 'seed' }])
})
