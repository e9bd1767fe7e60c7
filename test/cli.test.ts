import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ExcelJS from 'exceljs'
import Fastify, { type FastifyInstance } from 'fastify'
import iconv from 'iconv-lite'
import pino from 'pino'
import t from 'tap'
import app from '../src/app.ts'
import { openDatabase } from '../src/db/client.ts'
import { createTokensService } from '../src/modules/tokens/tokens.service.ts'
import { buildOptions } from '../src/options.ts'
import { collect, feedSettled, freshDatabase, tokenFor } from './helper.ts'

// The CLI (bin/indicator-registry.js) as a user runs it: a child process talking HTTP to
// a server this test starts on 127.0.0.1 (port 0), over the suite's database flavour.
// Each CLI run is a node process with tsx (about a second of CPU): on a busy machine this
// file needs more than the suite's default budget.
t.setTimeout(240_000)
const bin = fileURLToPath(new URL('../bin/indicator-registry.js', import.meta.url))
const work = await mkdtemp(path.join(os.tmpdir(), 'indicator-registry-cli-'))
t.teardown(() => rm(work, { recursive: true, force: true }))

/** Test-only switches on the server: hold the n-th (non-dry) import, fail the changes feed. */
const control = {
  holdImport: 0,
  imports: 0,
  held: undefined as undefined | { reached: () => void, release: Promise<void> },
  failChanges: false
}

const fresh = await freshDatabase('seeded')
const server: FastifyInstance = Fastify(buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }))
server.addHook('preHandler', async (request, reply) => {
  if (request.routeOptions.url === '/v1/changes' && control.failChanges) {
    return reply.code(503).type('application/problem+json').send({ type: 'about:blank', title: 'Unavailable', status: 503, detail: 'test', instance: request.url, code: 'UNAVAILABLE' })
  }
  if (request.routeOptions.url === '/v1/values/import' && (request.query as { dryRun?: boolean }).dryRun !== true) {
    control.imports++
    if (control.held !== undefined && control.imports === control.holdImport) {
      control.held.reached()
      await control.held.release
    }
  }
})
// As test/helper.ts does: no load shedding (a busy test machine lags the event loop).
await server.register(app, { database: fresh.database, auth: { readsRequireToken: false }, loadShedding: { maxEventLoopDelayMs: 0 } })
await server.listen({ port: 0, host: '127.0.0.1' })
const url = `http://127.0.0.1:${(server.server.address() as net.AddressInfo).port}`
t.teardown(async () => {
  await server.close()
  await fresh.drop()
})

const admin = await tokenFor(server, 'admin')
const editor = await tokenFor(server, 'editor', '330683') // 嵊州市 and its townships

interface Run { code: number | null, stdout: string, stderr: string }

/** Starts the CLI with a clean environment (no tap loaders, REGISTRY_URL of this server). */
function start (args: string[], env: Record<string, string | undefined> = {}): { child: ChildProcess, done: Promise<Run> } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NODE_OPTIONS|TAP|_TAPJS|REGISTRY_)/.test(k)))
  const merged = { ...base, REGISTRY_URL: url, ...env }
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: work,
    env: Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined))
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
  return { child, done }
}
const cli = (args: string[], env: Record<string, string | undefined> = {}) => start(args, env).done

/**
 * `token create --local` on a database of its own, as on a fresh install. It opens the
 * database itself (PGlite takes seconds to start), so it runs from the start, beside the
 * other tests, and the token test awaits its outcome.
 */
const localInstall = (async () => {
  const install = await freshDatabase('empty')
  try {
    const env: Record<string, string | undefined> = { DATABASE_URL: install.url, DATA_DIR: undefined }
    let busy: Run | undefined
    if (install.url === undefined) {
      env.DATA_DIR = (install.database.db as unknown as { $client: { dataDir: string } }).$client.dataDir
      busy = await cli(['token', 'create', '--local'], env) // the test process has it open
      await install.database.close()
    }
    const run = await cli(['token', 'create', '--local', '--json'], env)
    const created = run.code === 0 ? JSON.parse(run.stdout) as { id: string, token: string } : { id: '', token: '' }
    const database = install.url !== undefined ? install.database : await openDatabase({ dataDir: env.DATA_DIR!, logger: pino({ level: 'silent' }) })
    try {
      return { busy, run, created, verified: await createTokensService(database.db).verify(created.token) }
    } finally {
      if (install.url === undefined) await database.close()
    }
  } finally {
    await install.drop()
  }
})()
localInstall.catch(() => {}) // awaited (and reported) by the token test

const INDICATOR = 'assistive-device-service-persons' // a `sum` indicator of the seed, min 0
const townships = ['330683', '330683001', '330683002', '330683003', '330683005', '330683100']

/** A CSV of `rows` actuals for 嵊州市 and its townships, from `firstYear` on. */
async function csvFile (name: string, rows: number, { firstYear = 1950, value = (i: number) => String(i % 97) } = {}): Promise<string> {
  const lines = ['kind,regionCode,indicatorCode,year,breakdown,value,status,note']
  const breakdowns = ['', 'sex:male', 'sex:female', 'area:urban', 'area:rural']
  for (let i = 0; i < rows; i++) {
    const region = townships[i % townships.length]!
    const rest = Math.floor(i / townships.length)
    const breakdown = breakdowns[rest % breakdowns.length]!
    const year = firstYear + Math.floor(rest / breakdowns.length)
    lines.push(`actual,${region},${INDICATOR},${year},${breakdown},${value(i)},final,"row ${i + 1}, generated"`)
  }
  const file = path.join(work, name)
  await writeFile(file, lines.join('\r\n') + '\r\n') // CRLF, as spreadsheets write it
  return file
}

const stored = (from: number, to: number) => collect(server, `/v1/values?region=330683&includeDescendants=true&indicator=${INDICATOR}&breakdown=*&from=${from}&to=${to}`)
const exists = (p: string) => stat(p).then(() => true, () => false)
/** The changes after `after` (all when undefined) and the cursor at the end of the feed. */
async function feed (after?: string): Promise<{ items: Array<{ entity: string, key: string }>, cursor: string }> {
  const items = []
  let page: { items: Array<{ entity: string, key: string }>, nextCursor: string, hasMore: boolean }
  do {
    page = (await server.inject(`/v1/changes?limit=1000${after !== undefined ? `&after=${after}` : ''}`)).json()
    items.push(...page.items)
    after = page.nextCursor
  } while (page.hasMore)
  return { items, cursor: page.nextCursor }
}
const lastCursor = async () => (await feed()).cursor

t.test('push a CSV in chunks, then the same file again: all unchanged', async (t) => {
  const file = await csvFile('values.csv', 600, { firstYear: 1950 })
  const first = await cli(['push', file, '--chunk-size', '250', '--json'], { REGISTRY_TOKEN: editor })
  t.equal(first.code, 0, first.stderr)
  t.match(JSON.parse(first.stdout), { rows: 600, chunks: 3, mode: 'atomic', created: 600, updated: 0, unchanged: 0, rejected: 0, rejectedFile: null })
  const values = await stored(1950, 1990)
  t.equal(values.length, 600, 'every row stored once')
  t.match(values.find((v) => v.regionCode === '330683001' && v.year === 1950 && v.breakdown === null), { value: '1', note: 'row 2, generated', revision: 1 })
  t.notOk(await exists(`${file}.push-state.json`), 'the journal is gone once the push finished')

  const again = await cli(['push', file, '--chunk-size', '250'], { REGISTRY_TOKEN: editor })
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout, /600 rows in 3 chunks \(mode atomic\)\n {2}created 0, updated 0, unchanged 600, rejected 0\n$/)
  t.ok((await stored(1950, 1990)).every((v) => v.revision === 1), 'nothing revised')
})

t.test('rejected rows: partial writes the rest and lists them; atomic writes nothing', async (t) => {
  const file = path.join(work, 'mixed.csv')
  await writeFile(file, [
    'kind,regionCode,indicatorCode,year,value',
    `actual,330683,${INDICATOR},1991,5`,
    `actual,330683,${INDICATOR},1992,-5`,
    `actual,330683,${INDICATOR},1993,7`,
    'actual,330683,no-such-indicator,1994,1',
    `actual,330683,${INDICATOR},1995,"1,5"`
  ].join('\n') + '\n')
  const atomic = await cli(['push', file, '--chunk-size', '2'], { REGISTRY_TOKEN: editor })
  t.equal(atomic.code, 3, 'exit 3: rows rejected')
  t.match(atomic.stdout, /nothing written: the check of the whole file found 3 rejected rows/)
  t.equal((await stored(1991, 1995)).length, 0, 'the whole-file check wrote nothing')

  const partial = await cli(['push', file, '--chunk-size', '2', '--mode', 'partial', '--json'], { REGISTRY_TOKEN: editor })
  t.equal(partial.code, 3)
  t.match(JSON.parse(partial.stdout), { created: 2, rejected: 3, rejectedFile: `${file}.rejected.csv` })
  t.same((await stored(1991, 1995)).map((v) => v.year), [1991, 1993])
  const rejected = (await readFile(`${file}.rejected.csv`, 'utf8')).trim().split('\n')
  t.equal(rejected[0], 'row,errors,kind,regionCode,indicatorCode,year,value')
  t.match(rejected[1], /^2,"value out-of-range: .*",actual,330683,assistive-device-service-persons,1992,-5$/, 'row numbers count across chunks')
  t.match(rejected[2], /^4,indicatorCode not-found: /)
  t.match(rejected[3], /^5,"value number: ""1,5"": a comma may only separate groups of three digits .*",actual,330683,assistive-device-service-persons,1995,"1,5"$/, 'a message a clerk understands')
})

t.test('an interrupted push re-run replays the chunks already sent: no duplicates', async (t) => {
  const file = await csvFile('interrupted.csv', 500, { firstYear: 2000, value: (i) => String(i % 13) })
  await feedSettled(fresh.database)
  const before = await lastCursor()
  // Hold the third chunk on the server, kill the CLI there (as a crash or a timeout
  // would), then let the server go on with what it had.
  let reached!: () => void
  let release!: () => void
  const arrived = new Promise<void>((resolve) => { reached = resolve })
  control.imports = 0
  control.holdImport = 3
  control.held = { reached, release: new Promise<void>((resolve) => { release = resolve }) }
  const killed = start(['push', file, '--chunk-size', '50', '--mode', 'partial'], { REGISTRY_TOKEN: editor })
  await arrived
  killed.child.kill('SIGKILL')
  t.equal((await killed.done).code, null, 'killed mid-push')
  t.ok(await exists(`${file}.push-state.json`), 'the journal of the interrupted push is kept')
  control.held = undefined
  release()

  const resumed = await cli(['push', file, '--chunk-size', '50', '--mode', 'partial', '--json'], { REGISTRY_TOKEN: editor })
  t.equal(resumed.code, 0, resumed.stderr)
  const report = JSON.parse(resumed.stdout)
  t.match(report, { rows: 500, chunks: 10, resumed: true, created: 500, updated: 0, unchanged: 0, rejected: 0 }, 'the resumed run reports what one uninterrupted run would')
  t.ok(report.replayedChunks >= 2, `chunks sent before the kill were replayed (${report.replayedChunks})`)
  t.notOk(await exists(`${file}.push-state.json`))

  const values = await stored(2000, 2040)
  t.equal(values.length, 500, 'every row stored once')
  t.ok(values.every((v) => v.revision === 1), 'no row written twice')
  await feedSettled(fresh.database)
  const valueChanges = (await feed(before)).items.filter((c) => c.entity === 'value')
  t.equal(valueChanges.length, 500, 'one change per row in the feed')
  t.equal(new Set(valueChanges.map((c) => c.key)).size, 500, 'no value appears twice')
})

t.test('pull follows the feed from a state file; a second pull has nothing new', async (t) => {
  const state = path.join(work, 'sync.state')
  const out = path.join(work, 'changes.ndjson')
  await feedSettled(fresh.database)
  const first = await cli(['pull', '--state', state, '--out', out])
  t.equal(first.code, 0, first.stderr)
  const lines = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
  t.ok(lines.length > 3000, `the whole feed from the start (${lines.length} changes)`)
  t.match(lines[0], { entity: 'region', op: 'upsert', revision: 1 })
  const saved = JSON.parse(await readFile(state, 'utf8'))
  t.equal(saved.cursor, await lastCursor(), 'the cursor is the end of the feed')
  t.equal(saved.url, url)

  const second = await cli(['pull', '--state', state])
  t.equal(second.code, 0, second.stderr)
  t.equal(second.stdout, '', 'nothing new')
  t.match(second.stderr, /^0 changes; cursor /)

  const res = await server.inject({ method: 'PATCH', url: '/v1/regions/330683001', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { nameEn: 'Shanhu Street' } })
  t.equal(res.statusCode, 200)
  await feedSettled(fresh.database)
  const third = await cli(['pull', '--state', state, '--format', 'csv'])
  t.equal(third.code, 0, third.stderr)
  t.match(third.stdout, /^cursor,entity,key,op,revision,actor,at\n[A-Za-z0-9_-]+,region,330683001,upsert,2,[0-9a-f]{12},[^\n]+\n$/, 'exactly the new change, as CSV')

  // A failed run leaves the cursor where it was, so the next run sends its changes again.
  const cursor = JSON.parse(await readFile(state, 'utf8')).cursor
  await server.inject({ method: 'PATCH', url: '/v1/regions/330683001', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: { nameEn: 'Shanhu' } })
  control.failChanges = true
  const [failed, badOut] = await Promise.all([
    cli(['pull', '--state', state, '--retries', '0']),
    cli(['pull', '--state', state, '--out', path.join(work, 'no-such-dir', 'x.ndjson')])
  ])
  control.failChanges = false
  t.equal(failed.code, 5, 'a 5xx is exit 5')
  t.equal(badOut.code, 2, 'an --out that cannot be written is a usage error')
  t.equal(JSON.parse(await readFile(state, 'utf8')).cursor, cursor, 'the cursor did not move')
  await feedSettled(fresh.database)
  const retried = await cli(['pull', '--state', state, '--out', out])
  t.equal(retried.code, 0, retried.stderr)
  const appended = (await readFile(out, 'utf8')).trim().split('\n')
  t.equal(appended.length, lines.length + 1, '--out appends: the change delivered by the next run is added to the file')
  t.match(JSON.parse(appended.at(-1)!), { entity: 'region', key: '330683001', revision: 3 })
})

t.test('export writes CSV with the filters; it pushes back unchanged', async (t) => {
  const out = path.join(work, 'export.csv')
  const [res, totals] = await Promise.all([
    cli(['export', '--region', '330683', '--include-descendants', '--indicator', INDICATOR, '--from', '2000', '--to', '2040', '--breakdown', '*', '--out', out]),
    cli(['export', '--region', '330683001', '--indicator', INDICATOR, '--from', '2000', '--to', '2000'])
  ])
  t.equal(res.code, 0, res.stderr)
  const lines = (await readFile(out, 'utf8')).trim().split('\n')
  t.equal(lines[0], 'kind,planId,regionCode,indicatorCode,fromYear,year,breakdown,value,status,numerator,denominator,asOf,comparator,binding,baselineYear,baselineValue,qualitative,source,note')
  t.equal(lines.length, 501, 'the 500 values of the interrupted push')

  t.equal(totals.code, 0)
  t.equal(totals.stdout.trim().split('\n').length, 2, 'to stdout; totals only by default')

  const back = await cli(['push', out, '--json'], { REGISTRY_TOKEN: editor })
  t.match(JSON.parse(back.stdout), { rows: 500, unchanged: 500, created: 0, updated: 0 })
})

t.test('files as agencies save them: a GBK CSV and an Excel workbook push; export --out .xlsx pushes back unchanged', async (t) => {
  const gbk = path.join(work, '嵊州-gbk.csv')
  const text = ['kind,regionCode,indicatorCode,year,value,note', `actual,330683001,${INDICATOR},2060,"1,200",乡镇汇总（含农村）`, `actual,330683002,${INDICATOR},2060,１２,残联统计`].join('\r\n') + '\r\n'
  await writeFile(gbk, iconv.encode(text, 'gbk'))
  const pushed = await cli(['push', gbk, '--json'], { REGISTRY_TOKEN: editor })
  t.equal(pushed.code, 0, pushed.stderr)
  t.match(JSON.parse(pushed.stdout), { rows: 2, created: 2 })
  t.same((await stored(2060, 2060)).map((v) => [v.regionCode, v.value, v.note]), [['330683001', '1200', '乡镇汇总（含农村）'], ['330683002', '12', '残联统计']])

  const named = await cli(['push', gbk, '--encoding', 'utf-8'], { REGISTRY_TOKEN: editor })
  t.equal(named.code, 2, 'a wrong --encoding refuses the file')
  t.match(named.stderr, /not valid UTF-8/)

  const book = new ExcelJS.Workbook()
  const sheet = book.addWorksheet('数据')
  sheet.addRow(['kind', 'regionCode', 'indicatorCode', 'year', 'value', 'asOf', 'note'])
  sheet.addRow(['actual', '330683003', INDICATOR, 2061, 35, new Date(Date.UTC(2061, 5, 30)), '=工作簿'])
  sheet.addRow(['actual', '330683005', INDICATOR, 2061, '3.5万', null, null])
  sheet.getCell('F2').numFmt = 'yyyy-mm-dd'
  const xlsx = path.join(work, 'values.xlsx')
  await book.xlsx.writeFile(xlsx)
  const fromBook = await cli(['push', xlsx, '--json'], { REGISTRY_TOKEN: editor })
  t.equal(fromBook.code, 0, fromBook.stderr)
  t.match(JSON.parse(fromBook.stdout), { format: 'xlsx', rows: 2, created: 2 })
  t.same((await stored(2061, 2061)).map((v) => [v.regionCode, v.value, v.asOf, v.note]), [['330683003', '35', '2061-06-30', '=工作簿'], ['330683005', '35000', null, null]])

  const out = path.join(work, 'export.xlsx')
  const exported = await cli(['export', '--region', '330683', '--include-descendants', '--indicator', INDICATOR, '--from', '2060', '--to', '2061', '--out', out])
  t.equal(exported.code, 0, exported.stderr)
  t.match(exported.stderr, /bytes of Excel workbook/)
  const back = await cli(['push', out, '--json'], { REGISTRY_TOKEN: editor })
  t.equal(back.code, 0, back.stderr)
  t.match(JSON.parse(back.stdout), { rows: 4, unchanged: 4, created: 0, updated: 0 })

  const withBom = await cli(['export', '--region', '330683001', '--indicator', INDICATOR, '--from', '2060', '--to', '2060', '--bom'])
  t.ok(withBom.stdout.startsWith('\uFEFFkind,'), 'a BOM for Excel')
})

t.test('token create: through the API, and --local straight into the database', async (t) => {
  const [viaApi, byEditor, printed] = await Promise.all([
    cli(['token', 'create', '--role', 'editor', '--region', '330683001', '--name', '剡湖街道 sync'], { REGISTRY_TOKEN: admin }),
    cli(['token', 'create', '--role', 'admin', '--name', 'x'], { REGISTRY_TOKEN: editor }),
    cli(['token', 'create', '--print-only'])
  ])
  t.equal(viaApi.code, 0, viaApi.stderr)
  const token = viaApi.stdout.trim()
  t.match(token, /^irt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/, 'the secret alone on stdout')
  t.match(await server.tokens.verify(token), { role: 'editor', regionCode: '330683001' })
  t.equal(byEditor.code, 4, 'an editor cannot make tokens')

  const listed = await cli(['token', 'list'], { REGISTRY_TOKEN: admin })
  t.match(listed.stdout, new RegExp(`${token.split('_')[1]}\\teditor\\t330683001\\tactive\\t剡湖街道 sync`))

  // --local: the first admin token of a fresh install (run from the start, see below).
  const local = await localInstall
  if (local.busy !== undefined) {
    t.equal(local.busy.code, 2, 'refused while another process has the embedded database open')
    t.match(local.busy.stderr, /is open in another process/)
  }
  t.equal(local.run.code, 0, local.run.stderr)
  t.match(local.created, { role: 'admin', regionCode: null, name: 'admin (token create --local)' })
  t.match(local.verified, { role: 'admin', tokenId: local.created.id }, 'the server accepts it')
  t.match(printed.stdout, /^irt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}\n$/)
})

t.test('exit codes a cron job can act on', async (t) => {
  const file = await csvFile('small.csv', 3, { firstYear: 2090 })
  const closed = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
  })
  const [bad, anonymous, unreachable, missingFile, noArgument, badOption, noRole, help, banner] = await Promise.all([
    cli(['push', file], { REGISTRY_TOKEN: `irt_000000000000_${'A'.repeat(43)}` }),
    cli(['push', file]),
    cli(['push', file, '--url', `http://127.0.0.1:${closed}`, '--retries', '1'], { REGISTRY_TOKEN: editor }),
    cli(['push', path.join(work, 'no-such.csv')], { REGISTRY_TOKEN: editor }),
    cli(['push'], { REGISTRY_TOKEN: editor }),
    cli(['push', file, '--chunk-size', '0'], { REGISTRY_TOKEN: editor }),
    cli(['token', 'create', '--name', 'x'], { REGISTRY_TOKEN: admin }),
    cli(['pull', '--help']),
    cli(['token', 'list'], { REGISTRY_TOKEN: `\n> indicator-registry@0.1.0 token:create\n\n${admin}` })
  ])
  t.equal(bad.code, 4, 'bad token: 4')
  t.match(bad.stderr, /401 UNAUTHENTICATED/)
  t.equal(anonymous.code, 4, 'no token for a write: 4')
  t.equal(unreachable.code, 5, 'unreachable: 5')
  t.match(unreachable.stderr, /cannot reach the service at http:\/\/127\.0\.0\.1:[0-9]+: ECONNREFUSED/)
  t.ok(await exists(`${file}.push-state.json`), 'a push that could not finish keeps its journal for the re-run')
  t.equal(missingFile.code, 2, 'unreadable file: 2')
  t.equal(noArgument.code, 2, 'missing argument: 2')
  t.equal(badOption.code, 2, 'bad option: 2')
  t.match(badOption.stderr, /--chunk-size must be a whole number from 1 to 100000/)
  t.equal(noRole.code, 2, 'token create through the API without --role: 2')
  t.equal(help.code, 0)
  t.equal(banner.code, 2, 'a token with line breaks (npm\'s banner captured too): 2, not a crash')
  t.match(banner.stderr, /without spaces or line breaks/)
  t.match(help.stdout, /Exit codes:\n {2}0 {2}success/)
  t.equal((await stored(2090, 2090)).length, 0, 'nothing written by any of them')
})
