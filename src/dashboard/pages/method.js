import { decimal, h, percent, periodLabel, uid } from '../dom.js'
import { t } from '../i18n.js'

/**
 * The progress methods the API offers (GET /v1/plans/{id}/progress?method=...): the
 * switch that chooses one, the method as the answer states it, and the figures each
 * method rests on, so a reviewer can recompute a status from the page alone.
 */
export const METHODS = ['linear', 'projection', 'growth-ratio']

/** The method asked for in the hash, else the API's default. */
export const methodParam = (params) => (METHODS.includes(params.method) ? params.method : 'linear')

/** A hash route with `changes` applied to its query; empty values are left out. */
export function routeWith (route, params, changes) {
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries({ ...params, ...changes })) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value))
  }
  const text = query.toString()
  return `#/${route}${text === '' ? '' : `?${text}`}`
}

/**
 * Native radio buttons in a fieldset: Tab reaches the group, the arrow keys choose, and a
 * screen reader announces the legend and each choice. A choice redraws the page through
 * the hash (so it is remembered in the link); `data-keep-focus` tells the app to give
 * focus back to the chosen button afterwards instead of moving it to the heading.
 */
export function methodSwitch ({ route, params, current }) {
  const hintId = uid('method-hint')
  const name = uid('method')
  return h('fieldset', { class: 'method-switch', 'aria-describedby': hintId },
    h('legend', {}, t('method.legend')),
    h('div', { class: 'method-options' }, METHODS.map((m) => {
      const id = `method-${m}`
      const input = h('input', {
        type: 'radio',
        name,
        id,
        value: m,
        checked: m === current,
        'data-keep-focus': true,
        onchange: () => { location.hash = routeWith(route, params, { method: m === 'linear' ? undefined : m }) }
      })
      return h('div', { class: 'method-option' }, input,
        h('label', { for: id }, t(`method.${m}`), ' ', h('code', { lang: 'en' }, m)))
    })),
    h('p', { id: hintId, class: 'hint' }, t('method.hint')))
}

const THRESHOLD_KEYS = ['onTrackBelow', 'atRiskUpTo', 'onTrackFrom', 'atRiskFrom']

/** The method of the answer: what it measures, its thresholds, formula and source. */
export function methodDescription (method) {
  const trend = method.trend
  const facts = [
    [t('method.name'), [t(`method.${method.name}`), ' ', h('code', { lang: 'en' }, method.name)]],
    [t('method.what'), t(`method.${method.name}.what`)]
  ]
  if (trend === null) {
    facts.push([t('method.thresholds'), t('method.linear.thresholds', { share: method.atRiskShare })])
    facts.push([t('method.formula'), h('span', { lang: 'en' }, method.expected)])
  } else {
    const thresholds = Object.entries(trend.thresholds)
      .sort(([a], [b]) => THRESHOLD_KEYS.indexOf(a) - THRESHOLD_KEYS.indexOf(b))
      .map(([key, value]) => h('li', {}, THRESHOLD_KEYS.includes(key) ? t(`method.threshold.${key}`, { value, pct: percent(value) }) : `${key}: ${value}`))
    facts.push([t('method.thresholds'), [h('ul', { class: 'thresholds' }, thresholds), t(`method.${method.name}.wrongWay`)]])
    facts.push([t('method.points'), t('method.pointsRange', trend.points)])
    facts.push([t('method.formula'), h('span', { lang: 'en' }, trend.formula)])
    facts.push([t('method.source'), h('span', { lang: 'en' }, trend.source)])
  }
  if (method.cumulative) facts.push([t('method.cumulative'), h('span', { lang: 'en' }, method.cumulative)])
  return h('dl', { class: 'method-facts', 'data-method': method.name }, facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))
}

/** The figure compared with the target: the latest actual, or a flow's sum so far. */
export function actualText (item) {
  const flag = item.provisional ? ` (${t('provisional')})` : ''
  const c = item.cumulative
  if (c !== null) {
    return [
      h('span', { 'data-cumulative': c.value }, `${t('score.sum')} ${decimal(c.value)} (${periodLabel(c.fromYear, c.toYear)})${flag}`),
      h('br'),
      h('span', { class: 'elapsed', 'data-elapsed': c.periodElapsed }, t('score.elapsed', { pct: percent(c.periodElapsed), years: c.toYear - c.fromYear + 1, of: c.periodYears }))
    ]
  }
  if (item.actual === null) return '—'
  return `${decimal(item.actual.value)} (${periodLabel(item.actual.fromYear, item.actual.year)})${flag}`
}

/** The actuals a trend used, each linked to its record in the API. */
function pointsList (trend) {
  if (trend === null || trend.points.length === 0) return '—'
  return [
    `${t('method.pointCount', { n: trend.points.length })}: `,
    trend.points.map((p, n) => [n === 0 ? '' : '; ', h('a', { href: `/v1/values/${p.id}`, class: 'point', 'data-point': p.id }, `${p.year}: ${decimal(p.value)}`)])
  ]
}

const trendFigure = (field) => (item) => (item.trend === null ? '—' : decimal(item.trend[field]))

/** The columns that show how the chosen method reached each status. */
export function methodColumns (name) {
  if (name === 'projection') {
    return [
      { key: 'projected', label: t('col.projected'), numeric: true, render: trendFigure('projected') },
      { key: 'change', label: t('col.averageChange'), numeric: true, render: trendFigure('averageAnnualChange') },
      { key: 'points', label: t('col.points'), render: (i) => pointsList(i.trend) }
    ]
  }
  if (name === 'growth-ratio') {
    return [
      { key: 'base', label: t('col.growthBase'), numeric: true, render: (i) => (i.trend?.growthBase ? `${decimal(i.trend.growthBase.value)} (${i.trend.growthBase.year})` : '—') },
      { key: 'observed', label: t('col.observedGrowth'), numeric: true, render: trendFigure('observedGrowth') },
      { key: 'required', label: t('col.requiredGrowth'), numeric: true, render: trendFigure('requiredGrowth') },
      { key: 'ratio', label: t('col.growthRatio'), numeric: true, render: trendFigure('growthRatio') },
      { key: 'points', label: t('col.points'), render: (i) => pointsList(i.trend) }
    ]
  }
  return [{ key: 'expected', label: t('col.expected'), numeric: true, render: (i) => decimal(i.expected) }]
}
