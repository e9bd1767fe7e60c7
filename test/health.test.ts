import t from 'tap'
import { build, json } from './helper.ts'

t.test('liveness and readiness', async (t) => {
  const app = await build(t)
  const live = await app.inject('/health/live')
  t.equal(live.statusCode, 200)
  t.same(json(live), { status: 'ok' })
  const ready = await app.inject('/health/ready')
  t.equal(ready.statusCode, 200)
  t.equal(json(ready).status, 'ok')
  t.ok(['pg', 'pglite'].includes(json(ready).database))
})
