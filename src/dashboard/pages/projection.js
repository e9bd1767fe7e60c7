import { COLOURS } from '../chart.js'
import { comparatorSymbol, decimal, h, statusBadge } from '../dom.js'
import { t } from '../i18n.js'

/**
 * The projection on the trajectory page, taken from the API's answer with
 * method=projection: the value it projects for the target's year (`trend.projected`) and
 * the actuals it extended (`trend.points`). The page draws and lists those figures; it
 * computes nothing of its own except the running sum of a flow's yearly actuals, which
 * adds up to the API's `cumulative.value`.
 */

/** Exact sum of decimal strings (scaled integers), so a running sum reads as the API's. */
function sumDecimals (values) {
  const digits = Math.max(0, ...values.map((v) => (String(v).split('.')[1] ?? '').length))
  const scaled = (v) => {
    const negative = String(v).startsWith('-')
    const [whole, fraction = ''] = String(v).replace('-', '').split('.')
    const n = BigInt(whole + fraction.padEnd(digits, '0'))
    return negative ? -n : n
  }
  const total = values.reduce((s, v) => s + scaled(v), 0n)
  const negative = total < 0n
  const text = (negative ? -total : total).toString().padStart(digits + 1, '0')
  const whole = text.slice(0, text.length - digits)
  const fraction = digits === 0 ? '' : text.slice(-digits).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`
}

/** The projection item of the target shown (or of another target of the same indicator). */
export function projectionOf (items, shown) {
  const has = (i) => i.trend !== null && i.trend.projected !== null
  const item = items.find((i) => i.targetId === shown?.targetId && has(i)) ?? items.find(has) ??
    items.find((i) => i.targetId === shown?.targetId)
  const none = { item, line: null, running: [], columns: [], text: projectionText(item) }
  if (item === undefined || !has(item)) return none
  const { points, projected } = item.trend
  const c = item.cumulative
  let running = []
  let start
  if (c !== null) {
    // A flow summed over its period: the sums so far (ending at the API's sum), then on.
    const before = sumDecimals([c.value, ...points.map((p) => `-${p.value}`.replace('--', ''))])
    running = points.map((p, n) => [p.year, sumDecimals([before, ...points.slice(0, n + 1).map((q) => q.value)])])
    start = [c.toYear, c.value]
  } else {
    const last = points.at(-1)
    start = [last.year, last.value]
  }
  const end = [item.year, projected]
  const line = [start, end]
  const byYear = new Map(running)
  const columns = [{
    key: 'projection',
    label: t('traj.series.projection'),
    numeric: true,
    render: (r) => {
      if (r.year === end[0]) return `${t('traj.projected')} ${decimal(projected)}`
      if (byYear.has(r.year)) return `${t('score.sum')} ${decimal(byYear.get(r.year))}`
      if (r.year === start[0]) return `${t('traj.projectedFrom')} ${decimal(start[1])}`
      return '—'
    }
  }]
  return { item, line, running, columns, text: projectionText(item) }
}

function projectionText (item) {
  if (item === undefined) return ''
  const trend = item.trend
  if (trend === null) return h('p', { class: 'projection', 'data-projection': '' }, t('traj.projectionNone'))
  if (trend.projected === null) {
    return h('p', { class: 'projection', 'data-projection': '' }, t('traj.projectionUnavailable', { n: trend.points.length }), ' ', statusBadge(trend.status))
  }
  const first = trend.points[0]
  const last = trend.points.at(-1)
  return h('p', { class: 'projection', 'data-projection': trend.projected },
    t(item.cumulative === null ? 'traj.projection' : 'traj.projectionFlow', {
      n: trend.points.length,
      from: first.year,
      to: last.year,
      change: decimal(trend.averageAnnualChange),
      year: item.year,
      projected: decimal(trend.projected),
      target: `${comparatorSymbol(item.comparator)} ${decimal(item.target)}`
    }), ' ', statusBadge(trend.status))
}

/** The chart's series: the projection's dashed line, and a flow's running sum. */
export function projectionSeries (projection) {
  if (projection.line === null) return []
  const series = [{
    name: t('traj.series.projection'),
    type: 'line',
    symbol: 'triangle',
    symbolSize: 12,
    lineStyle: { type: 'dotted', width: 3 },
    itemStyle: { color: COLOURS['at-risk'] },
    data: projection.line.map(([year, value]) => [year, Number(value)])
  }]
  if (projection.running.length > 0) {
    series.push({
      name: t('traj.series.sum'),
      type: 'line',
      symbol: 'emptyCircle',
      symbolSize: 10,
      itemStyle: { color: COLOURS.achieved },
      lineStyle: { type: 'solid', width: 1 },
      data: projection.running.map(([year, value]) => [year, Number(value)])
    })
  }
  return series
}
