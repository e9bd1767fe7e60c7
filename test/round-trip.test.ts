import t from 'tap'
import { build, call, collect, feedSettled, json } from './helper.ts'

// A client written from the design reads a resource and writes it back as it came: every
// seeded region, indicator and plan through GET then PUT (and PATCH) answers 200 and
// changes nothing (no revision, no feed entry).
const app = await build(t, { seed: true })

/** The feed's position after its last entry. */
async function feedEnd (): Promise<string> {
  await feedSettled(app)
  let after = ''
  for (;;) {
    const page = json(await app.inject(`/v1/changes?limit=1000${after !== '' ? `&after=${after}` : ''}`))
    after = page.nextCursor
    if (page.hasMore !== true) return after
  }
}

for (const [kind, list, key] of [['regions', '/v1/regions', 'code'], ['indicators', '/v1/indicators', 'code'], ['plans', '/v1/plans', 'id']] as const) {
  t.test(`every seeded ${kind}: GET, then PUT and PATCH it back unchanged`, async (t) => {
    const before = await feedEnd()
    const items = await collect<Record<string, unknown>>(app, list)
    t.ok(items.length > (kind === 'regions' ? 3000 : 4), `${items.length} ${kind}`)
    const failures: string[] = []
    for (const item of items) {
      const url = `${list}/${String(item[key])}`
      const got = await app.inject(url)
      const put = await call(app, 'PUT', url, json(got))
      if (put.statusCode !== 200 || put.body !== got.body) failures.push(`PUT ${url}: ${put.statusCode} ${put.body.slice(0, 200)}`)
    }
    t.same(failures, [], 'every PUT of a GET answers 200 with the same representation')
    const sample = items.slice(0, 20)
    for (const item of sample) {
      const url = `${list}/${String(item[key])}`
      const patch = await call(app, 'PATCH', url, json(await app.inject(url)))
      t.equal(patch.statusCode, 200, `PATCH ${url}`)
      t.equal(json(patch).revision, item.revision, 'no new revision')
    }
    const page = json(await app.inject(`/v1/changes?after=${before}`))
    t.same(page.items, [], 'no feed entry')
  })
}

t.test('a yearly value: GET, then PATCH it back unchanged; its kind cannot change', async (t) => {
  const [value] = await collect<Record<string, unknown>>(app, '/v1/values?kind=target&plan=huangyan-disability-14th-fyp')
  const url = `/v1/values/${String(value!.id)}`
  const patch = await call(app, 'PATCH', url, json(await app.inject(url)))
  t.equal(patch.statusCode, 200, patch.body)
  t.equal(patch.body, (await app.inject(url)).body, 'the same representation, the same revision')
  const otherId = await call(app, 'PATCH', url, { id: Number(value!.id) + 1 })
  t.equal(otherId.statusCode, 422)
  t.equal(json(otherId).code, 'KEY_MISMATCH')
  const otherKind = await call(app, 'PATCH', url, { kind: 'actual' })
  t.equal(otherKind.statusCode, 422)
  t.match(json(otherKind), { code: 'INVALID_VALUE', errors: [{ field: '/body/kind' }] })
  t.equal(json(await app.inject(url)).revision, value!.revision, 'refused patches change nothing')
})
