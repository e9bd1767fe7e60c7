import { cpuMsOf, runLoad, startChild, stopChild, type Child } from './lib.ts'
const url = 'postgres://postgres@127.0.0.1:5432/bench_5m'
const variants: Record<string, Record<string, string>> = {
  full: { LOG_LEVEL: 'info', RATE_LIMIT_MAX: '1000000000' },
  nolog: { LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '1000000000' },
  nolog_nohard: { LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '0', MAX_EVENT_LOOP_DELAY_MS: '0' }
}
const which = (process.argv[2] ?? 'series')
const paths = which === 'series'
  ? Array.from({ length: 200 }, (_, i) => `/v1/values?region=${['331003', '331004', '110101', '330683', '610122'][i % 5]}&indicator=bench-0${String(10 + (i % 80)).padStart(2, '0')}`)
  : Array.from({ length: 200 }, (_, i) => `/v1/values/${1 + ((i * 7919 * 631) % 5000000)}`)
const children: Record<string, Child> = {}
try {
  for (const [name, env] of Object.entries(variants)) children[name] = await startChild('src/server.ts', { DATABASE_URL: url, ...env }, `ablate-${name}`)
  children.bare = await startChild('bench/bare.ts', { DATABASE_URL: url }, 'ablate-bare')
  for (const c of Object.values(children)) await runLoad({ origin: `http://127.0.0.1:${c.port}`, paths, connections: 32, seconds: 2 })
  const res: Record<string, number[]> = {}
  for (let r = 0; r < Number(process.argv[3] ?? 2); r++) {
    for (const [name, c] of Object.entries(children)) {
      const cpu0 = cpuMsOf(c.pid)
      const x = await runLoad({ origin: `http://127.0.0.1:${c.port}`, paths, connections: 32, seconds: 5 })
      ;(res[name] ??= []).push(Math.round(x.rps))
      ;(res[name + ' cpu us/req'] ??= []).push(Math.round((cpuMsOf(c.pid) - cpu0) * 1000 / x.requests))
    }
  }
  for (const [k, v] of Object.entries(res)) console.log(k, v.join(' '), 'mean', Math.round(v.reduce((a, b) => a + b) / v.length))
} finally {
  for (const c of Object.values(children)) await stopChild(c)
}
