import { add, cmp, div, mul, rational, sign, sub, toDecimalString, type Rational } from '../../lib/rational.ts'
import type { Cumulative } from './progress.evidence.ts'
import type { ActualFacts, ProgressStatus } from './progress.service.ts'

/**
 * The two trend methods of plan progress. Each asks whether, at the pace of the recent
 * actuals, the target will be met, and rates the answer by its source's published
 * thresholds. They run only for a target that is neither achieved nor without data.
 */

export const PROJECTION = {
  minPoints: 2,
  maxPoints: 6,
  onTrackBelow: '0.05',
  atRiskUpTo: '0.2',
  source: 'Statistisches Bundesamt (Destatis), Indikatorenbericht zur Deutschen Nachhaltigkeitsstrategie: the "weather" rating of indicators with targets',
  text: 'The average annual change over the latest actuals (at least 2, at most 6; a flow target summed over years: the average yearly amount) is extended from the latest actual to the target\'s year. The status comes from how far that projection would miss the target, as a share of the gap still to close from the latest actual: under 5% `on-track`, 5% to 20% `at-risk`, over 20% `off-track`; a trend that moves away from the target is `off-track`. For `exactly` a projection past the target misses it too. Fewer than 2 actuals: `not-assessable`.'
} as const

export const GROWTH_RATIO = {
  onTrackFrom: '0.95',
  atRiskFrom: '0.6',
  source: 'Eurostat, Sustainable development in the European Union, monitoring report methodology (indicators with quantitative targets), as used by Open SDG',
  text: 'ratio = observed / required compound annual growth rate. Observed: from the base (the target\'s or plan\'s baseline when its year lies before the latest actual, else the earliest of the latest actuals) to the latest actual; required: from the base to the target in the target\'s year, CAGR = (end / start)^(1 / years) - 1. When a value is zero or negative (or the sign changes) compound growth is undefined and the average absolute annual changes are compared instead. A flow target summed over years compares the average yearly amount so far with the one the target needs. At least 0.95 `on-track`, 0.6 to 0.95 `at-risk`, 0 to 0.6 `off-track` (insufficient), below 0 `off-track` (moving away). A base as late as the target\'s year, or no base: `not-assessable`.'
} as const

export interface TrendTarget {
  value: string
  comparator: 'at-least' | 'at-most' | 'exactly'
  direction: 'increase' | 'decrease'
  year: number
  baselineYear: number | null
  baselineValue: string | null
}

export interface Trend {
  status: ProgressStatus
  reason: string
  /** The actuals the trend was measured on, oldest first. */
  points: Array<{ id: number, year: number, value: string }>
  projected: string | null
  averageAnnualChange: string | null
  growthBase: { year: number, value: string } | null
  observedGrowth: string | null
  requiredGrowth: string | null
  growthRatio: string | null
}

const r = rational
const dec = (x: Rational | null) => (x === null ? null : toDecimalString(x))
const pointsOf = (points: readonly ActualFacts[]) => points.map((p) => ({ id: p.id, year: p.year, value: p.value }))

function empty (status: ProgressStatus, reason: string, points: readonly ActualFacts[]): Trend {
  return { status, reason, points: pointsOf(points), projected: null, averageAnnualChange: null, growthBase: null, observedGrowth: null, requiredGrowth: null, growthRatio: null }
}

/** +1 when more is better for meeting the target, -1 when less is. */
function betterSide (t: TrendTarget, from: Rational): number {
  if (t.comparator === 'at-least') return 1
  if (t.comparator === 'at-most') return -1
  return sign(sub(r(t.value), from)) || (t.direction === 'increase' ? 1 : -1)
}

export function projection (t: TrendTarget, points: readonly ActualFacts[], cumulative: Cumulative | null): Trend {
  if (points.length < PROJECTION.minPoints) return empty('not-assessable', `A projection needs at least ${PROJECTION.minPoints} actuals; ${points.length} ${points.length === 1 ? 'is' : 'are'} known.`, points)
  const last = points[points.length - 1]!
  const target = r(t.value)
  let reached: Rational
  let change: Rational
  let projected: Rational
  if (cumulative !== null) {
    // A flow summed over the period: the yearly amounts' average carries on to its end.
    reached = r(cumulative.value)
    change = div(points.reduce((s, p) => add(s, r(p.value)), r(0)), r(points.length))!
    projected = add(reached, mul(change, r(Math.max(0, t.year - cumulative.toYear))))
  } else {
    reached = r(last.value)
    change = div(sub(reached, r(points[0]!.value)), r(last.year - points[0]!.year))!
    projected = add(reached, mul(change, r(Math.max(0, t.year - last.year))))
  }
  const d = betterSide(t, reached)
  const gap = mul(sub(target, reached), r(d))
  const out = (status: ProgressStatus, reason: string): Trend => ({
    ...empty(status, reason, points), projected: dec(projected), averageAnnualChange: dec(change)
  })
  if (sign(change) * d < 0) return out('off-track', `The trend moves away from the target (${dec(change)} a year).`)
  const miss = mul(sub(target, projected), r(d))
  const shortfall = t.comparator === 'exactly' ? (sign(miss) < 0 ? mul(miss, r(-1)) : miss) : (sign(miss) > 0 ? miss : r(0))
  const share = sign(gap) > 0 ? div(shortfall, gap)! : r(0)
  const text = `Projected ${dec(projected)} for ${t.year} against ${t.value}: it misses by ${toDecimalString(mul(share, r(100)), 2)}% of the remaining gap.`
  if (cmp(share, r(PROJECTION.onTrackBelow)) < 0) return out('on-track', text)
  return out(cmp(share, r(PROJECTION.atRiskUpTo)) <= 0 ? 'at-risk' : 'off-track', text)
}

const round6 = (x: number) => toDecimalString(r(x.toFixed(12)))

export function growthRatio (t: TrendTarget, points: readonly ActualFacts[], cumulative: Cumulative | null): Trend {
  const last = points[points.length - 1]
  if (last === undefined) return empty('not-assessable', 'No actual to measure growth on.', points)
  let observed: number
  let required: number
  let base: { year: number, value: string } | null = null
  if (cumulative !== null) {
    // A flow summed over the period: the average yearly amount so far against the one the target needs.
    const yearsSoFar = cumulative.toYear - cumulative.fromYear + 1
    observed = Number(cumulative.value) / yearsSoFar
    required = Number(t.value) / cumulative.periodYears
  } else {
    base = t.baselineYear !== null && t.baselineValue !== null && t.baselineYear < last.year
      ? { year: t.baselineYear, value: t.baselineValue }
      : points.length >= 2 ? { year: points[0]!.year, value: points[0]!.value } : null
    if (base === null || t.year <= base.year) return empty('not-assessable', 'Growth needs a base year before the latest actual and before the target\'s year.', points)
    const [start, now, end] = [Number(base.value), Number(last.value), Number(t.value)]
    const compound = start > 0 && now > 0 && end > 0
    observed = compound ? (now / start) ** (1 / (last.year - base.year)) - 1 : (now - start) / (last.year - base.year)
    required = compound ? (end / start) ** (1 / (t.year - base.year)) - 1 : (end - start) / (t.year - base.year)
  }
  const out = (status: ProgressStatus, reason: string, ratio: number | null): Trend => ({
    ...empty(status, reason, points), growthBase: base, observedGrowth: round6(observed), requiredGrowth: round6(required), growthRatio: ratio === null ? null : round6(ratio)
  })
  if (required === 0) return out('off-track', 'The target asks to hold the base level, and the latest actual has left it.', null)
  const ratio = observed / required
  const text = `Observed growth ${round6(observed)} a year against ${round6(required)} required: ratio ${round6(ratio)}.`
  if (ratio >= Number(GROWTH_RATIO.onTrackFrom)) return out('on-track', text, ratio)
  if (ratio >= Number(GROWTH_RATIO.atRiskFrom)) return out('at-risk', text, ratio)
  return out('off-track', ratio < 0 ? `${text} It moves away from the target.` : text, ratio)
}
