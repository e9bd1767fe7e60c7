import { api, regionsByCode } from '../api.js'
import { COLOURS, chartFigure } from '../chart.js'
import { comparatorSymbol, decimal, filterForm, h, percent, periodLabel, section, statusBadge, table, yearField, yearLabel } from '../dom.js'
import { nameOf, t } from '../i18n.js'
import { actualText, methodColumns, methodDescription, methodParam, methodSwitch, routeWith } from './method.js'

export const STATUSES = ['off-track', 'at-risk', 'no-data', 'on-track', 'achieved', 'not-assessable']
const BINDINGS = ['binding', 'expected']

/** Binding targets first, and within a class the ones that need attention first. */
export function scorecardOrder (a, b) {
  return BINDINGS.indexOf(a.binding) - BINDINGS.indexOf(b.binding) ||
    STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) ||
    a.indicatorCode.localeCompare(b.indicatorCode) || a.year - b.year || a.targetId - b.targetId
}

const trajectoryHref = (planId, item, method) =>
  routeWith('trajectory', { plan: planId, region: item.regionCode, indicator: item.indicatorCode }, { method: method === 'linear' ? undefined : method })

function targetText (item) {
  if (item.qualitative !== null) return item.qualitative
  return `${comparatorSymbol(item.comparator)} ${decimal(item.target)}`
}

/** A plan's scorecard: every target with its progress (GET /v1/plans/{id}/progress). */
export default async function scorecardPage (root, planId, params) {
  const method = methodParam(params)
  const route = `plan/${encodeURIComponent(planId)}`
  const [plan, progress, indicators] = await Promise.all([
    api.plan(planId),
    api.progress(planId, { asOf: params.asOf, method: method === 'linear' ? undefined : method }),
    api.indicators()
  ])
  const regions = await regionsByCode([plan.regionCode, ...progress.items.map((i) => i.regionCode)])
  const items = [...progress.items].sort(scorecardOrder)
  const title = nameOf(plan)

  const summaryRows = BINDINGS.map((binding) => ({ binding, ...progress.summary[binding] }))
  const summaryChart = chartFigure(t('score.summaryCaption'), {
    grid: { left: 90, right: 24, top: 56, bottom: 32, containLabel: true },
    legend: { top: 0, data: STATUSES.map((s) => t(`status.${s}`)) },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: BINDINGS.map((b) => t(`binding.${b}`)) },
    series: STATUSES.map((s) => ({
      name: t(`status.${s}`),
      type: 'bar',
      stack: 'status',
      itemStyle: { color: COLOURS[s] },
      label: { show: true, formatter: (p) => (p.value > 0 ? String(p.value) : '') },
      data: summaryRows.map((r) => r[s])
    }))
  })

  root.append(
    h('h1', { tabindex: -1 }, title),
    h('dl', { class: 'facts' },
      h('dt', {}, t('col.kind')), h('dd', {}, t(`kind.${plan.kind}`)),
      h('dt', {}, t('col.region')), h('dd', {}, nameOf(regions.get(plan.regionCode))),
      h('dt', {}, t('col.period')), h('dd', {}, plan.startYear === plan.endYear ? String(plan.startYear) : `${plan.startYear}–${plan.endYear}`),
      h('dt', {}, t('score.asOf')), h('dd', { 'data-as-of': progress.asOf }, yearLabel(progress.asOf))),
    filterForm({
      route,
      label: t('score.asOf'),
      // The chosen method stays when another year is asked for.
      fields: [yearField({ name: 'asOf', label: t('score.asOf'), value: params.asOf ?? progress.asOf }),
        method === 'linear' ? '' : h('input', { type: 'hidden', name: 'method', value: method })]
    }),
    methodSwitch({ route, params, current: method }),
    // The method the API applied, as its answer states it.
    section(t('method.heading', { method: t(`method.${progress.method.name}`) }),
      methodDescription(progress.method),
      h('details', { class: 'method-details' },
        h('summary', {}, t('score.methodDetails')),
        h('dl', { lang: 'en' }, Object.entries(progress.method).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))])))),
    section(t('score.summary'),
      summaryChart,
      table({
        caption: t('score.summaryCaption'),
        rowHeader: 'binding',
        className: 'summary-table',
        columns: [
          { key: 'binding', label: t('col.binding'), render: (r) => t(`binding.${r.binding}`) },
          ...STATUSES.map((s) => ({ key: s, label: statusBadge(s), numeric: true, render: (r) => String(r[s]) })),
          { key: 'total', label: t('score.total'), numeric: true, render: (r) => String(r.total) }
        ],
        rows: summaryRows
      })),
    section(t('score.targets'),
      table({
        caption: t('score.targetsCaption'),
        rowHeader: 'indicator',
        className: 'targets-table',
        columns: [
          {
            key: 'indicator',
            label: t('col.indicator'),
            render: (i) => [
              h('a', { href: trajectoryHref(planId, i, method), 'data-target': i.targetId }, nameOf(indicators.get(i.indicatorCode)) || i.indicatorCode),
              indicators.has(i.indicatorCode) ? ` (${t(`unit.${indicators.get(i.indicatorCode).unit}`)})` : ''
            ]
          },
          { key: 'region', label: t('col.region'), render: (i) => nameOf(regions.get(i.regionCode)) },
          { key: 'period', label: t('col.period'), render: (i) => periodLabel(i.fromYear, i.year) },
          { key: 'binding', label: t('col.binding'), render: (i) => t(`binding.${i.binding}`) },
          { key: 'baseline', label: t('col.baseline'), numeric: true, render: (i) => (i.baselineValue === null ? '—' : `${decimal(i.baselineValue)} (${yearLabel(i.baselineYear)})`) },
          { key: 'target', label: t('col.target'), numeric: true, render: targetText },
          { key: 'actual', label: t('col.actual'), numeric: true, render: actualText },
          ...methodColumns(progress.method.name),
          { key: 'attainment', label: t('col.attainment'), numeric: true, render: (i) => percent(i.attainment) },
          { key: 'status', label: t('col.status'), render: (i) => statusBadge(i.status) },
          // The API's reason carries what the columns cannot, e.g. the projection's miss as a
          // share of the remaining gap; it is English text, marked so.
          { key: 'reason', label: t('col.reason'), render: (i) => h('span', { lang: 'en', class: 'reason' }, i.reason) }
        ],
        rows: items.map((i) => ({ ...i, className: `row-${i.binding}-${i.status}` }))
      }))
  )
  return title
}
