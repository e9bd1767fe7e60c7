import t from 'tap'
import { build, tokenFor } from '../helper.ts'
import { DEFAULT_SEED, formatFailure, formatStats, runFuzz } from './fuzz.ts'

/**
 * The OpenAPI-driven fuzzer against the seeded database. Replay a run
 * with FUZZ_SEED=<seed> npm run test:fuzz; narrow it with FUZZ_ONLY=<operationId,...>;
 * scale it with FUZZ_WRITES / FUZZ_READS (requests per write / read operation).
 * Requests carry an admin token (FUZZ_TOKEN, else one made with the helper's tokenFor);
 * the app is built with `auth: 'none'` so the few requests sent without one really go
 * without, and without rate limiting, which would answer most of them with 429.
 */
const env = process.env
const seed = env.FUZZ_SEED !== undefined && env.FUZZ_SEED !== '' ? Number(env.FUZZ_SEED) : DEFAULT_SEED
if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, not ${env.FUZZ_SEED}`)
const count = (name: string, fallback: number) => env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback

t.comment(`FUZZ_SEED=${seed} (set FUZZ_SEED to replay this run)`)

const app = await build(t, { seed: true, auth: 'none', rateLimit: { max: 0, windowMs: 60_000, allow: [] } })
// FUZZ_TOKEN (irt_<12 hex>_<43 base64url>) is registered as the admin of the fresh database,
// so a run's requests, token included, are the same byte for byte.
const token = env.FUZZ_TOKEN !== undefined && env.FUZZ_TOKEN !== '' ? env.FUZZ_TOKEN : await tokenFor(app, 'admin')
if (token === env.FUZZ_TOKEN) await app.tokens.bootstrapAdmin(token)
const writes = count('FUZZ_WRITES', 1000)
const reads = count('FUZZ_READS', 300)

const result = await runFuzz(app, {
  seed,
  token,
  writes,
  reads,
  only: env.FUZZ_ONLY !== undefined && env.FUZZ_ONLY !== '' ? env.FUZZ_ONLY.split(',') : undefined,
  log: (line) => t.comment(line)
})

t.comment(formatStats(result))
for (const line of result.harnessErrors) t.comment(`harness: ${line}`)
for (const op of result.operations) {
  for (const [status, example] of Object.entries(op.undocumentedExamples)) t.comment(`undocumented ${status} on ${op.id}, e.g. ${example}`)
}
for (const [group, n] of Object.entries(result.groups)) t.comment(`failures x${n}: ${group}`)

for (const op of result.operations) {
  t.test(`${op.method} ${op.path} (${op.id})`, async (t) => {
    t.ok(op.requests >= (op.method === 'GET' ? reads : writes), `${op.requests} generated requests`)
    // A run where access control or rate limiting refuses most requests tests nothing else.
    const refused = (op.statuses[401] ?? 0) + (op.statuses[403] ?? 0) + (op.statuses[429] ?? 0)
    t.ok(refused <= op.requests / 2, `most requests get past access control and rate limiting (${refused} of ${op.requests} refused)`)
    const mine = result.failures.filter((f) => f.request.operation === op.id)
    t.equal(op.failures, 0, `no failures (FUZZ_SEED=${seed})`, {
      diagnostic: op.failures > 0,
      failures: mine.map((f) => formatFailure(f, result.failures.indexOf(f) + 1))
    })
  })
}
