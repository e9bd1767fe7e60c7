import pino from 'pino'
import { openDatabase } from '../src/db/client.ts'
import { createValuesRepository } from '../src/modules/values/values.repository.ts'
const d = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/bench_5m', dataDir: '', logger: pino({ level: 'silent' }) })
const r = createValuesRepository(d.db)
const m = () => { const u = process.memoryUsage(); return { rss: Math.round(u.rss / 1e6), heapUsed: Math.round(u.heapUsed / 1e6), heapTotal: Math.round(u.heapTotal / 1e6) } }
console.log('before', m())
let max = 0; let n = 0
const t = setInterval(() => { max = Math.max(max, m().rss) }, 50)
for await (const lines of r.exportLines({ from: 2023, to: 2025, breakdown: {} }, 10000)) { n += lines.length; const s = lines.join('\n') + '\n'; if (s.length < 0) console.log('x') }
clearInterval(t)
console.log('rows', n, 'max rss', max, 'after', m())
await d.close()
