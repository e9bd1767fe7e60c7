import { add, rational, toDecimalString } from '../../lib/rational.ts'
import type { ActualFacts, PlanFacts } from './progress.service.ts'

/**
 * Which actuals a target is judged by. The same for every method, so the methods differ
 * only in what they compute from them.
 */

/** How many of the latest actuals a trend (projection, growth) looks at, at most. */
export const MAX_POINTS = 6

export interface TargetShape {
  fromYear: number
  year: number
  nature: 'flow' | 'stock' | 'rate'
}

/** A multi-year target of a flow, judged by the sum of the yearly actuals in its period so far. */
export interface Cumulative {
  /** The sum of the yearly actuals of fromYear..lastYear. */
  value: string
  fromYear: number
  /** The last year with a yearly actual, at or before asOf. */
  toYear: number
  /** The actuals summed, oldest first. */
  actualIds: number[]
  /** Years of the period with a report (counted from fromYear to toYear), over the period's length. */
  periodElapsed: string
  /** The period's length in years (fromYear..year). */
  periodYears: number
}

export interface Evidence {
  /** The figure compared with the target, as reported (null for a cumulative target: see `cumulative`). */
  actual: ActualFacts | null
  cumulative: Cumulative | null
  /** The series a trend is measured on: yearly values, latest MAX_POINTS, oldest first. */
  points: ActualFacts[]
}

const singleYear = (a: ActualFacts) => a.fromYear === a.year

/**
 * `actuals`: the region's actuals of the target's indicator and breakdown at or before
 * asOf, newest first (single-year ones, and one of exactly the target's period if any).
 *
 * An actual from before the plan's period is not progress: the target has no data until an
 * actual of a year inside the plan's period exists (older ones may still show a trend).
 * - A single-year target: the latest single-year actual.
 * - A multi-year target: an actual of exactly its period when one is reported; otherwise,
 *   for a flow, the sum of the yearly actuals inside the period so far; for a stock or a
 *   rate, the latest yearly level inside the period.
 */
export function evidenceOf (plan: PlanFacts, t: TargetShape, actuals: readonly ActualFacts[]): Evidence {
  const inPlan = (a: ActualFacts) => a.year >= plan.startYear
  const yearly = actuals.filter(singleYear)
  if (t.fromYear === t.year) {
    const latest = yearly.find(inPlan) ?? null
    return { actual: latest, cumulative: null, points: latest === null ? [] : yearly.slice(0, MAX_POINTS).reverse() }
  }

  const whole = actuals.find((a) => a.fromYear === t.fromYear && a.year === t.year && inPlan(a))
  const inPeriod = yearly.filter((a) => a.year >= t.fromYear && a.year <= t.year && inPlan(a))
  if (whole !== undefined) return { actual: whole, cumulative: null, points: inPeriod.slice(0, MAX_POINTS).reverse() }
  if (inPeriod.length === 0) return { actual: null, cumulative: null, points: [] }
  if (t.nature !== 'flow') return { actual: inPeriod[0]!, cumulative: null, points: yearly.slice(0, MAX_POINTS).reverse() }

  const summed = [...inPeriod].reverse()
  const toYear = summed[summed.length - 1]!.year
  const periodYears = t.year - t.fromYear + 1
  return {
    actual: null,
    cumulative: {
      value: toDecimalString(summed.reduce((sum, a) => add(sum, rational(a.value)), rational(0))),
      fromYear: t.fromYear,
      toYear,
      actualIds: summed.map((a) => a.id),
      periodElapsed: toDecimalString({ n: BigInt(toYear - t.fromYear + 1), d: BigInt(periodYears) }),
      periodYears
    },
    points: summed.slice(-MAX_POINTS)
  }
}
