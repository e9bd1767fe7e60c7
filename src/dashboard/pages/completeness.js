import { api, regionsByCode } from '../api.js'
import { chartFigure } from '../chart.js'
import { filterForm, h, section, selectField, table } from '../dom.js'
import { nameOf, t } from '../i18n.js'
import { withinChoices } from './places.js'

/**
 * Data completeness: which regions reported actuals in which years (GET /v1/values with
 * includeDescendants). Regions that carry targets but never reported are listed too, so
 * the gaps show.
 */
export default async function completenessPage (root, _arg, params) {
  const within = params.within ?? '100000'
  const [choices, actuals, targets] = await Promise.all([
    withinChoices(),
    api.values({ region: within, includeDescendants: true, kind: 'actual' }),
    api.values({ region: within, includeDescendants: true, kind: 'target' })
  ])
  root.append(
    h('h1', { tabindex: -1 }, t('comp.title')),
    h('p', {}, t('comp.intro')),
    filterForm({ route: 'completeness', label: t('comp.title'), fields: [selectField({ name: 'within', label: t('cmp.within'), options: choices, value: within })] })
  )
  // region -> year -> indicators reported (a multi-year actual counts in its last year).
  const grid = new Map()
  for (const v of actuals) {
    const years = grid.get(v.regionCode) ?? new Map()
    years.set(v.year, (years.get(v.year) ?? new Set()).add(v.indicatorCode))
    grid.set(v.regionCode, years)
  }
  for (const v of targets) if (!grid.has(v.regionCode)) grid.set(v.regionCode, new Map())
  if (grid.size === 0) {
    root.append(h('p', {}, t('comp.empty')))
    return t('comp.title')
  }
  const codes = [...grid.keys()].sort()
  const regions = await regionsByCode(codes)
  const actualYears = actuals.map((v) => v.year)
  const allYears = actualYears.length === 0 ? [] : range(Math.min(...actualYears), Math.max(...actualYears))
  const label = (code) => `${nameOf(regions.get(code))} (${code})`
  const count = (code, year) => grid.get(code).get(year)?.size ?? 0

  const heatmap = allYears.length === 0
    ? ''
    : chartFigure(t('comp.caption'), {
      // Every cell shows its number, so the shade is never the only carrier and patterns would only clutter it.
      aria: { enabled: true, label: { enabled: false }, decal: { show: false } },
      grid: { left: 16, right: 16, top: 16, bottom: 72, containLabel: true },
      tooltip: { position: 'top' },
      xAxis: { type: 'category', data: allYears.map(String), splitArea: { show: true } },
      yAxis: { type: 'category', inverse: true, data: codes.map(label), splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, ...codes.flatMap((c) => allYears.map((y) => count(c, y)))), calculable: false, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#f2f2f2', '#1d5ea8'] } },
      series: [{
        type: 'heatmap',
        name: t('comp.caption'),
        label: { show: true, color: '#000', backgroundColor: '#fff', padding: 2 },
        data: codes.flatMap((c, row) => allYears.map((y, col) => [col, row, count(c, y)]))
      }]
    }, { tall: codes.length > 6 })

  root.append(section(nameOf(await api.region(within)),
    heatmap,
    table({
      caption: t('comp.caption'),
      rowHeader: 'region',
      className: 'completeness-table',
      columns: [
        { key: 'region', label: t('col.region'), render: (r) => label(r.code) },
        ...allYears.map((y) => ({
          key: String(y),
          label: String(y),
          numeric: true,
          render: (r) => (count(r.code, y) === 0 ? h('span', { class: 'missing' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'visually-hidden' }, t('none'))) : String(count(r.code, y)))
        })),
        { key: 'years', label: t('comp.years'), numeric: true, render: (r) => (grid.get(r.code).size === 0 ? t('comp.targetsOnly') : String(grid.get(r.code).size)) }
      ],
      rows: codes.map((code) => ({ code, className: grid.get(code).size === 0 ? 'row-missing' : undefined }))
    })))
  return t('comp.title')
}

function range (from, to) {
  const out = []
  for (let y = from; y <= to; y++) out.push(y)
  return out
}
