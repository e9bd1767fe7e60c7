import { compareDecimal } from '../../lib/decimal.ts'
import { add, cmp, div, mul, rational, sign, sub, toDecimalString, type Rational } from '../../lib/rational.ts'
import type { Breakdown } from '../values/values.schemas.ts'
import { evidenceOf, MAX_POINTS } from './progress.evidence.ts'
import { GROWTH_RATIO, growthRatio, PROJECTION, projection } from './progress.trends.ts'

/**
 * Plan progress (docs/design.md "Plan progress"): pure computation over a
 * plan's targets and the actuals chosen for them, so every rule is unit-testable and the
 * texts below are both the OpenAPI description and the `method` of each answer.
 */

export const progressStatuses = ['achieved', 'on-track', 'at-risk', 'off-track', 'no-data', 'not-assessable'] as const
export type ProgressStatus = typeof progressStatuses[number]

/** At-risk threshold: progress at least this share of the trajectory's (exact decimal). */
export const AT_RISK_SHARE = '0.6'
/** Digits of `attainment` and `expected` in the answer (rounded half away from zero). */
export const DIGITS = 6

export const progressMethods = ['linear', 'projection', 'growth-ratio'] as const
export type ProgressMethod = typeof progressMethods[number]

export const method = {
  actual: 'The actuals a target is judged by are those of the same region, indicator and breakdown at or before asOf (newer ones are ignored). An actual from before the plan\'s period is not progress: a target with no actual of a year inside the plan\'s period is `no-data` under every method, its baseline still shown. A single-year target (fromYear = year) takes the latest single-year actual. A multi-year target (fromYear < year, e.g. a five-year figure) takes an actual of exactly its period when one is reported; otherwise, for a `flow` indicator, the sum of the single-year actuals inside its period so far (`cumulative`), and for a `stock` or `rate` indicator the latest single-year level inside its period. A provisional actual is used, and the item says so (`provisional: true`).',
  cumulative: 'A flow target summed over years: attainment = sum / target; the trajectory is the straight line from 0 at the start of the period to the target at its end, so expected = target * periodElapsed, where periodElapsed = (the last year with a yearly actual - fromYear + 1) / (year - fromYear + 1). The status follows the rules below with 0 as the baseline.',
  baseline: 'The baseline is the target\'s baselineValue, in the target\'s baselineYear or, when the target names none, the plan\'s baselineYear. Only a stated baseline counts; none is guessed from older actuals.',
  attainment: 'attainment = (actual - baseline) / (target - baseline) when a baseline is known and differs from the target; otherwise actual / target, or target / actual for a `decrease` indicator (lower is better). A zero divisor gives null (1 when the other side is zero too). 1 means the target is reached; the first form is the share of the planned change achieved, so it reads the same for increase and decrease indicators.',
  expected: 'expected = baseline + (target - baseline) * (y - baselineYear) / (year - baselineYear) at the actual\'s year y (clamped to baselineYear..year): the linear trajectory from the baseline to the target. null when there is no trajectory: no baseline value, no baseline year, a baseline year not before the target\'s year, a plan of a single year (startYear = endYear, e.g. an annual work plan), or no actual.',
  status: [
    '`not-assessable`: the target has no number (qualitative).',
    '`no-data`: no actual qualifies.',
    '`achieved`: the actual meets the target by its comparator (at-least: actual >= target; at-most: actual <= target; exactly: actual = target), compared exactly as decimals.',
    '`exactly` fixes an amount, so an actual that has passed it (beyond the target as seen from the baseline, or in the indicator\'s better direction when there is no distinct baseline) is `off-track`: the amount is missed, and further progress only moves away from it. A quota that may be exceeded is `at-least`, not `exactly`.',
    'With a trajectory, "better" means higher for at-least, lower for at-most, and for exactly towards the target from the baseline (the indicator\'s direction when baseline = target):',
    '`on-track`: the actual meets the trajectory (is expected or better);',
    '`at-risk`: the progress made since the baseline is at least 0.6 of the trajectory\'s, (actual - baseline) >= 0.6 * (expected - baseline) in the better direction;',
    '`off-track`: otherwise. So a target whose baseline equals its value (hold a level) is off-track as soon as the actual falls short of it.',
    'Without a trajectory there is no pace to measure, so a target not achieved is never on-track: `at-risk` when attainment >= 0.6, `off-track` otherwise (also when attainment is null).'
  ].join(' '),
  summary: 'summary counts the statuses per binding class (`binding` 约束性, `expected` 预期性), so binding targets that are off-track stand out.',
  rounding: 'attainment and expected are exact fractions rounded half away from zero to 6 fraction digits; every comparison is made on the exact values, before rounding.',
  methods: '`linear` (the default) rates each target against the straight path from its baseline to its value, as above. `projection` and `growth-ratio` keep `achieved`, `no-data` and attainment as above and rate the other targets by the pace of the recent actuals (see `trend`); each item lists the actuals the trend used (`trend.points`).'
} as const

export interface PlanFacts { startYear: number, endYear: number, baselineYear: number | null }

export interface ActualFacts {
  id: number
  fromYear: number
  year: number
  value: string
  status: 'provisional' | 'final' | 'estimated'
  asOf: string | null
}

/** A target as the linear method assesses it: against one figure, `actual`. */
export interface TargetFacts {
  id: number
  regionCode: string
  indicatorCode: string
  fromYear: number
  year: number
  breakdown: Breakdown | null
  value: string | null
  comparator: 'at-least' | 'at-most' | 'exactly' | null
  binding: 'binding' | 'expected'
  baselineYear: number | null
  baselineValue: string | null
  qualitative: string | null
  direction: 'increase' | 'decrease'
  actual: ActualFacts | null
}

/** A target with every actual it may be judged by (newest first), as the repository reads it. */
export type PlanTarget = Omit<TargetFacts, 'actual'> & { nature: 'flow' | 'stock' | 'rate', actuals: ActualFacts[] }

export interface Assessment {
  status: ProgressStatus
  attainment: string | null
  expected: string | null
  baselineYear: number | null
  reason: string
}

const ONE = rational(1)
const AT_RISK = rational(AT_RISK_SHARE)

/** a meets b by the comparator (exact decimals). */
function meets (comparator: NonNullable<TargetFacts['comparator']>, a: string, b: string): boolean {
  const c = compareDecimal(a, b)
  return comparator === 'at-least' ? c >= 0 : comparator === 'at-most' ? c <= 0 : c === 0
}

/**
 * The side the target lies on, as seen from the baseline: +1 above, -1 below; the
 * indicator's direction when there is no baseline or it equals the target.
 */
function towardsTarget (t: TargetFacts, target: Rational, baseline: Rational | null): number {
  return (baseline === null ? 0 : sign(sub(target, baseline))) || (t.direction === 'increase' ? 1 : -1)
}

/** n / d, with 0/0 = 1 (the actual equals a zero target) and x/0 = null. */
function ratio (n: Rational, d: Rational): Rational | null {
  const q = div(n, d)
  if (q !== null) return q
  return sign(n) === 0 ? ONE : null
}

function attainmentOf (t: TargetFacts, a: Rational, target: Rational, baseline: Rational | null): Rational | null {
  if (baseline !== null && cmp(baseline, target) !== 0) return ratio(sub(a, baseline), sub(target, baseline))
  return t.direction === 'decrease' ? ratio(target, a) : ratio(a, target)
}

/** Assesses one target against its chosen actual. */
export function assessTarget (plan: PlanFacts, t: TargetFacts): Assessment {
  const baselineYear = t.baselineYear ?? plan.baselineYear
  const out = (status: ProgressStatus, reason: string, attainment: Rational | null = null, expected: Rational | null = null): Assessment => ({
    status,
    reason,
    attainment: attainment === null ? null : toDecimalString(attainment, DIGITS),
    expected: expected === null ? null : toDecimalString(expected, DIGITS),
    baselineYear
  })

  if (t.value === null || t.comparator === null) return out('not-assessable', 'The target is qualitative (no number to compare with).')
  if (t.actual === null) return out('no-data', 'No actual of this region, indicator, breakdown and period at or before asOf.')

  const a = rational(t.actual.value)
  const target = rational(t.value)
  const baseline = t.baselineValue === null ? null : rational(t.baselineValue)
  const attainment = attainmentOf(t, a, target, baseline)

  // The trajectory: from (baselineYear, baseline) to (year, target), none for one-year plans.
  let expected: Rational | null = null
  if (baseline !== null && baselineYear !== null && baselineYear < t.year && plan.startYear < plan.endYear) {
    const y = Math.min(Math.max(t.actual.year, baselineYear), t.year)
    const share = div(rational(y - baselineYear), rational(t.year - baselineYear))!
    expected = add(baseline, mul(sub(target, baseline), share))
  }

  if (meets(t.comparator, t.actual.value, t.value)) {
    return out('achieved', `The actual ${t.actual.value} meets the target (${t.comparator} ${t.value}).`, attainment, expected)
  }

  // Past a fixed amount no pace or share of the way applies: the amount is missed.
  if (t.comparator === 'exactly' && sign(sub(a, target)) * towardsTarget(t, target, baseline) > 0) {
    return out('off-track', `The actual ${t.actual.value} has passed the fixed amount (exactly ${t.value}).`, attainment, expected)
  }

  if (expected !== null && baseline !== null) {
    // Better direction: what meets the comparator; for `exactly`, towards the target.
    const d = t.comparator === 'at-least'
      ? 1
      : t.comparator === 'at-most' ? -1 : towardsTarget(t, target, baseline)
    const ahead = sign(sub(a, expected)) * d
    if (ahead >= 0) return out('on-track', `The actual ${t.actual.value} meets the trajectory value ${toDecimalString(expected, DIGITS)} for ${t.actual.year}.`, attainment, expected)
    const made = mul(sub(a, baseline), rational(d))
    const due = mul(mul(sub(expected, baseline), rational(d)), AT_RISK)
    return cmp(made, due) >= 0
      ? out('at-risk', `The progress since the baseline is at least ${AT_RISK_SHARE} of the trajectory's by ${t.actual.year}.`, attainment, expected)
      : out('off-track', `The progress since the baseline is less than ${AT_RISK_SHARE} of the trajectory's by ${t.actual.year}.`, attainment, expected)
  }

  return attainment !== null && cmp(attainment, AT_RISK) >= 0
    ? out('at-risk', `Not achieved; no trajectory to compare with, and the attainment is at least ${AT_RISK_SHARE}.`, attainment, null)
    : out('off-track', `Not achieved; no trajectory to compare with, and the attainment is ${attainment === null ? 'undefined' : `below ${AT_RISK_SHARE}`}.`, attainment, null)
}

export type Summary = Record<'binding' | 'expected', Record<ProgressStatus | 'total', number>>

export function emptySummary (): Summary {
  const counts = () => ({ total: 0, achieved: 0, 'on-track': 0, 'at-risk': 0, 'off-track': 0, 'no-data': 0, 'not-assessable': 0 })
  return { binding: counts(), expected: counts() }
}

/** The whole progress answer of a plan at `asOf`. */
/** One target of a plan at asOf, by `how`. */
function assessPlanTarget (plan: PlanFacts, t: PlanTarget, how: ProgressMethod) {
  const { actual, cumulative, points } = evidenceOf(plan, t, t.actuals)
  const { actuals: _all, nature: _nature, ...facts } = t
  // A flow summed over years is the linear rule from 0 at the start of its period.
  const linear = cumulative === null
    ? assessTarget(plan, { ...facts, actual })
    : { ...assessTarget(plan, { ...facts, baselineYear: t.fromYear - 1, baselineValue: '0', actual: { id: 0, fromYear: t.fromYear, year: cumulative.toYear, value: cumulative.value, status: 'final', asOf: null } }), baselineYear: t.baselineYear ?? plan.baselineYear }
  if (actual === null && cumulative === null && linear.status === 'no-data') {
    linear.reason = 'No actual of a year inside the plan\'s period, at or before asOf.'
  }
  const trendOf = () => {
    if (how === 'linear' || t.value === null || t.comparator === null) return null
    if (linear.status === 'achieved' || linear.status === 'no-data' || linear.status === 'not-assessable') return null
    const trendTarget = { value: t.value, comparator: t.comparator, direction: t.direction, year: t.year, baselineYear: t.baselineYear ?? plan.baselineYear, baselineValue: t.baselineValue }
    return how === 'projection' ? projection(trendTarget, points, cumulative) : growthRatio(trendTarget, points, cumulative)
  }
  const trend = trendOf()
  return { actual, cumulative, linear, trend, status: trend?.status ?? linear.status, reason: trend?.reason ?? linear.reason }
}

/** The whole progress answer of a plan at `asOf`, by `how`. */
export function progressReport (planId: string, plan: PlanFacts, asOf: number, targets: PlanTarget[], how: ProgressMethod = 'linear') {
  const summary = emptySummary()
  const items = targets.map((t) => {
    const a = assessPlanTarget(plan, t, how)
    summary[t.binding].total++
    summary[t.binding][a.status]++
    return {
      targetId: t.id,
      regionCode: t.regionCode,
      indicatorCode: t.indicatorCode,
      fromYear: t.fromYear,
      year: t.year,
      breakdown: t.breakdown,
      binding: t.binding,
      comparator: t.comparator,
      target: t.value,
      qualitative: t.qualitative,
      baselineYear: a.linear.baselineYear,
      baselineValue: t.baselineValue,
      direction: t.direction,
      nature: t.nature,
      actual: a.actual,
      cumulative: a.cumulative,
      provisional: a.actual?.status === 'provisional' || (a.cumulative !== null && t.actuals.some((x) => x.status === 'provisional' && a.cumulative!.actualIds.includes(x.id))),
      expected: a.linear.expected,
      attainment: a.linear.attainment,
      trend: a.trend,
      status: a.status,
      reason: a.reason
    }
  })
  return { planId, asOf, method: methodOf(how), summary, items }
}

/** The method an answer was computed with: its name, thresholds, formulas and sources. */
export function methodOf (how: ProgressMethod) {
  const thresholds: Record<string, string> = how === 'projection'
    ? { onTrackBelow: PROJECTION.onTrackBelow, atRiskUpTo: PROJECTION.atRiskUpTo }
    : { onTrackFrom: GROWTH_RATIO.onTrackFrom, atRiskFrom: GROWTH_RATIO.atRiskFrom }
  return {
    name: how,
    ...method,
    atRiskShare: AT_RISK_SHARE,
    trend: how === 'projection'
      ? { formula: PROJECTION.text, source: PROJECTION.source, thresholds, points: { min: PROJECTION.minPoints, max: PROJECTION.maxPoints } }
      : how === 'growth-ratio'
        ? { formula: GROWTH_RATIO.text, source: GROWTH_RATIO.source, thresholds, points: { min: 1, max: MAX_POINTS } }
        : null
  }
}
