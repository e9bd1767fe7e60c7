// The typed client (src/client/index.ts) against the real service over HTTP: it keeps the
// latest Commit-Position of its writes and sends it with its reads, so that a deployment
// with read replicas answers them from a server that has those writes.
import t from 'tap'
import { createRegistryClient } from '../src/client/index.ts'
import { parseLsn } from '../src/db/wal-position.ts'
import { build, tokenFor } from './helper.ts'

t.test('the client sends the position of its latest write with its reads', async (t) => {
  const server = await build(t)
  const token = await tokenFor(server, 'admin')
  const address = await server.listen({ host: '127.0.0.1', port: 0 })

  const sent: Array<{ method: string, position: string | null }> = []
  const received: string[] = []
  const recordingFetch = async (request: Request) => {
    sent.push({ method: request.method, position: request.headers.get('commit-position') })
    const response = await fetch(request)
    const position = response.headers.get('commit-position')
    if (position !== null) received.push(position)
    return response
  }
  const api = createRegistryClient({ baseUrl: address, token, fetch: recordingFetch })

  const before = await api.GET('/v1/regions')
  t.equal(before.response.status, 200)
  t.equal(sent.at(-1)!.position, null, 'no write yet: no position sent')

  const created = await api.POST('/v1/regions', { body: { code: '100000', name: '中华人民共和国', level: 'national' } })
  t.equal(created.response.status, 201)
  const first = received.at(-1)!
  t.ok(parseLsn(first) !== undefined, 'the write answer carried a position')

  await api.GET('/v1/regions/{code}', { params: { path: { code: '100000' } } })
  t.equal(sent.at(-1)!.position, first, 'the read sends it back')

  await api.PATCH('/v1/regions/{code}', { params: { path: { code: '100000' } }, body: { nameEn: 'China' } })
  t.equal(sent.at(-1)!.method, 'PATCH')
  t.equal(sent.at(-1)!.position, null, 'writes do not send it')
  const second = received.at(-1)!
  t.ok(parseLsn(second)! > parseLsn(first)!)

  await api.GET('/v1/regions')
  t.equal(sent.at(-1)!.position, second, 'the latest position is sent')

  const explicit = '0/1'
  await api.GET('/v1/regions', { headers: { 'commit-position': explicit } })
  t.equal(sent.at(-1)!.position, explicit, "a caller's own header is left alone")
})

t.test('readYourWrites: false sends no position', async (t) => {
  const server = await build(t)
  const token = await tokenFor(server, 'admin')
  const address = await server.listen({ host: '127.0.0.1', port: 0 })
  const positions: Array<string | null> = []
  const api = createRegistryClient({
    baseUrl: address,
    token,
    readYourWrites: false,
    fetch: async (request) => { positions.push(request.headers.get('commit-position')); return fetch(request) }
  })
  t.equal((await api.POST('/v1/regions', { body: { code: '100000', name: '中华人民共和国', level: 'national' } })).response.status, 201)
  t.equal((await api.GET('/v1/regions')).response.status, 200)
  t.same(positions, [null, null])
})
