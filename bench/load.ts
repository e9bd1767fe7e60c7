// One load run in a process of its own (the load generator must not share the
// measured process): autocannon against one URL, rotating through a list of paths.
//
//   node --import tsx bench/load.ts '{"origin":"http://127.0.0.1:3000","paths":["/v1/values/1"],"connections":32,"seconds":10}'
// Prints one JSON line: requests per second, latency percentiles (ms), errors, non-2xx.
import autocannon from 'autocannon'

export interface LoadSpec {
  origin: string
  paths: string[]
  /** Request headers for each path (same position), e.g. If-None-Match. */
  headers?: Array<Record<string, string>>
  connections: number
  seconds: number
  /** Requests per second over all connections; unset: as many as the server answers. */
  rate?: number
}
export interface LoadResult {
  requests: number
  rps: number
  latency: { p50: number, p90: number, p99: number, max: number, mean: number }
  non2xx: number
  /** Answers by status code. */
  statuses: Record<string, number>
  errors: number
  timeouts: number
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec
let next = 0
const result = await autocannon({
  url: spec.origin,
  connections: spec.connections,
  duration: spec.seconds,
  ...(spec.rate !== undefined ? { overallRate: spec.rate } : {}),
  requests: [{
    setupRequest: (request) => {
      const i = next++ % spec.paths.length
      request.path = spec.paths[i]!
      const headers = spec.headers?.[i]
      if (headers !== undefined) request.headers = { ...request.headers, ...headers }
      return request
    }
  }]
})
const out: LoadResult = {
  requests: result.requests.total,
  rps: result.requests.total / spec.seconds,
  latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.average },
  non2xx: result.non2xx,
  statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, (s as { count: number }).count])),
  errors: result.errors,
  timeouts: result.timeouts
}
process.stdout.write(JSON.stringify(out) + '\n')
