import { readFileSync } from 'node:fs'
import { build, tokenFor } from '../helper.ts'
import { sentTexts } from './fuzz.ts'
import { judge } from './oracle.ts'
import { loadSpec } from './spec.ts'

/**
 * Sends failing requests saved by the fuzzer (failure-NN.json) to a freshly seeded app and
 * prints the answers with the oracle's verdict:
 *   node --import tsx test/fuzz/replay.ts /tmp/indicator-registry-fuzz/<seed>/failure-01.json
 * A failure that needs the state left by earlier requests only reproduces with the whole
 * run: FUZZ_SEED=<seed> npm run test:fuzz.
 */
const teardowns: Array<() => unknown> = []
const app = await build({ teardown: (fn) => teardowns.push(fn) }, { seed: true, auth: 'none', rateLimit: { max: 0, windowMs: 60_000, allow: [] } })
// The saved admin token belonged to the fuzz run's database: requests sent with it get a new one.
const token = process.env.FUZZ_TOKEN !== undefined && process.env.FUZZ_TOKEN !== '' ? process.env.FUZZ_TOKEN : await tokenFor(app, 'admin')
if (token === process.env.FUZZ_TOKEN) await app.tokens.bootstrapAdmin(token)
const spec = loadSpec(new URL('../../openapi/openapi.json', import.meta.url))
let failed = 0
try {
  for (const file of process.argv.slice(2)) {
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    if (saved.auth === 'token') saved.headers.authorization = `Bearer ${token}`
    const payload = saved.payloadBase64 !== undefined ? Buffer.from(saved.payloadBase64, 'base64') : saved.payload
    const res = await app.inject({ method: saved.method, url: saved.url, headers: saved.headers, ...(payload !== undefined ? { payload } : {}) })
    const op = spec.operations.find((o) => o.id === saved.operation)!
    // Text this request sent may come back (an echo is not a leak).
    const sent = sentTexts({ url: saved.url, headers: saved.headers, payload }).map((s) => s.toLowerCase())
    const verdict = judge(spec, op, { method: saved.method, auth: saved.auth, exact: saved.exact !== false }, true, res, (f) => sent.some((s) => s.includes(f.toLowerCase())))
    console.log(`${file}\n${saved.method} ${saved.url}\n-> ${res.statusCode} ${String(res.headers['content-type'])}\n${res.body.slice(0, 4000)}`)
    for (const reason of verdict.failures) console.log(`FAIL: ${reason}`)
    if (verdict.failures.length > 0) failed++
  }
} finally {
  for (const fn of teardowns.reverse()) await fn()
}
process.exitCode = failed > 0 ? 1 : 0
