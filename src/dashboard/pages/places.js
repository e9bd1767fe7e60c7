import { api, get, regionsByCode } from '../api.js'
import { nameOf } from '../i18n.js'

/**
 * Regions worth choosing as "within": those that have plans and every region above them,
 * so the choice stays short (the national list has thousands of regions).
 */
export async function withinChoices () {
  const plans = await api.plans()
  const codes = [...new Set(plans.map((p) => p.regionCode))]
  const above = (await Promise.all(codes.map((c) => api.ancestors(c)))).flat()
  const regions = await regionsByCode([...codes, ...above.map((r) => r.code)])
  return [...regions.values()].sort((a, b) => a.code.localeCompare(b.code)).map((r) => [r.code, `${nameOf(r)} (${r.code})`])
}

/**
 * A starting point when the form is empty: the indicator and year most regions reported
 * among the most recent actuals, within the province of one of them.
 */
export async function defaultComparison () {
  const page = await get('/v1/values', { kind: 'actual', limit: 1000 })
  const counts = new Map()
  for (const v of page.items) {
    if (v.fromYear !== v.year || v.breakdown !== null) continue
    const key = `${v.indicatorCode}|${v.year}`
    const entry = counts.get(key) ?? { indicator: v.indicatorCode, year: v.year, region: v.regionCode, n: 0 }
    entry.n++
    counts.set(key, entry)
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n || b.year - a.year || a.indicator.localeCompare(b.indicator))[0]
  if (best === undefined) return {}
  const [region, ancestors] = await Promise.all([api.region(best.region), api.ancestors(best.region)])
  const province = ancestors.find((r) => r.level === 'province') ?? ancestors[0]
  return { indicator: best.indicator, year: String(best.year), within: province?.code ?? region.code, level: region.level }
}
