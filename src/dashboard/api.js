// The public API, read with fetch exactly as any integrator would (see /docs).

export class ApiError extends Error {
  constructor (status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`)
    this.status = status
    this.code = problem?.code
  }
}

function url (path, params = {}) {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value))
  }
  const text = query.toString()
  return text === '' ? path : `${path}?${text}`
}

export async function get (path, params) {
  const res = await fetch(url(path, params), { headers: { accept: 'application/json' } })
  if (!res.ok) {
    let problem
    try { problem = await res.json() } catch { /* not problem+json */ }
    throw new ApiError(res.status, problem)
  }
  return res.json()
}

/** Every item of a paginated list, following nextCursor to the end. */
export async function all (path, params = {}) {
  const items = []
  let cursor
  do {
    const page = await get(path, { ...params, limit: 1000, cursor })
    items.push(...page.items)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return items
}

const enc = encodeURIComponent
const cache = new Map()
/** Catalogue data changes rarely: one answer per page load. */
function once (key, load) {
  if (!cache.has(key)) cache.set(key, load().catch((err) => { cache.delete(key); throw err }))
  return cache.get(key)
}

export const api = {
  plans: (filter = {}) => all('/v1/plans', filter),
  plan: (id) => get(`/v1/plans/${enc(id)}`),
  targets: (id) => all(`/v1/plans/${enc(id)}/targets`),
  /**
   * Progress of a plan's targets by `method` (linear, projection or growth-ratio); left
   * out, the API's default (the linear path) applies.
   */
  progress: (id, { asOf, method } = {}) => get(`/v1/plans/${enc(id)}/progress`, { asOf, method }),
  values: (filter) => all('/v1/values', filter),
  ranking: (indicator, filter) => all(`/v1/indicators/${enc(indicator)}/ranking`, filter),
  rollup: (region, filter) => get(`/v1/regions/${enc(region)}/rollup`, filter),
  indicators: () => once('indicators', async () => new Map((await all('/v1/indicators')).map((i) => [i.code, i]))),
  region: (code) => once(`region:${code}`, () => get(`/v1/regions/${enc(code)}`)),
  ancestors: (code) => once(`ancestors:${code}`, () => get(`/v1/regions/${enc(code)}/ancestors`).then((r) => r.items)),
  descendants: (code, level) => once(`descendants:${code}:${level}`, () => all(`/v1/regions/${enc(code)}/descendants`, { level }))
}

/** Regions by code, fetched once each. */
export async function regionsByCode (codes) {
  const unique = [...new Set(codes)]
  const rows = await Promise.all(unique.map((c) => api.region(c)))
  return new Map(rows.map((r) => [r.code, r]))
}
