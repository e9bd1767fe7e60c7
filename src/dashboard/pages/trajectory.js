import { api, regionsByCode } from '../api.js'
import { COLOURS, chartFigure } from '../chart.js'
import { comparatorSymbol, decimal, filterForm, h, periodLabel, section, selectField, statusBadge, table, uid } from '../dom.js'
import { nameOf, t } from '../i18n.js'
import { methodParam } from './method.js'
import { projectionOf, projectionSeries } from './projection.js'

/** The plan's target regions and indicators, for the form's choices. */
async function choices (planId) {
  const targets = planId === undefined ? [] : await api.targets(planId)
  const [regions, indicators] = await Promise.all([regionsByCode(targets.map((v) => v.regionCode)), api.indicators()])
  return { targets, regions, indicators }
}

function optionsOf (targets, regions, indicators, region) {
  const regionOptions = [...new Set(targets.map((v) => v.regionCode))].sort().map((c) => [c, nameOf(regions.get(c))])
  const indicatorOptions = [...new Set(targets.filter((v) => region === undefined || v.regionCode === region).map((v) => v.indicatorCode))]
    .map((c) => [c, nameOf(indicators.get(c)) || c])
    .sort((a, b) => a[1].localeCompare(b[1]))
  return { regionOptions, indicatorOptions }
}

/** An indicator's trajectory for a region: actuals, the path from baseline to target, yearly targets. */
export default async function trajectoryPage (root, _arg, params) {
  const plans = await api.plans()
  const planId = params.plan ?? plans.find((p) => p.baselineYear !== null)?.id ?? plans[0]?.id
  const { targets, regions, indicators } = await choices(planId)
  const region = params.region ?? targets[0]?.regionCode
  const { regionOptions, indicatorOptions } = optionsOf(targets, regions, indicators, region)
  const indicator = params.indicator ?? indicatorOptions[0]?.[0]
  const method = methodParam(params)

  const planField = selectField({ name: 'plan', label: t('traj.plan'), options: plans.map((p) => [p.id, nameOf(p)]), value: planId })
  const regionField = selectField({ name: 'region', label: t('col.region'), options: regionOptions, value: region })
  const indicatorField = selectField({ name: 'indicator', label: t('col.indicator'), options: indicatorOptions, value: indicator })
  // Choosing another plan or region offers that plan's regions and indicators; the page
  // changes only when the form is sent, so moving through the choices is never disruptive.
  const refill = async () => {
    const plan = planField.querySelector('select').value
    const next = await choices(plan)
    const regionSelect = regionField.querySelector('select')
    const wanted = next.targets.some((v) => v.regionCode === regionSelect.value) ? regionSelect.value : next.targets[0]?.regionCode
    const opts = optionsOf(next.targets, next.regions, next.indicators, wanted)
    regionSelect.replaceChildren(...opts.regionOptions.map(([v, l]) => h('option', { value: v, selected: v === wanted }, l)))
    indicatorField.querySelector('select').replaceChildren(...opts.indicatorOptions.map(([v, l]) => h('option', { value: v }, l)))
  }
  planField.querySelector('select').addEventListener('change', refill)
  regionField.querySelector('select').addEventListener('change', refill)

  root.append(
    h('h1', { tabindex: -1 }, t('traj.title')),
    h('p', {}, t('traj.intro')),
    filterForm({
      route: 'trajectory',
      label: t('traj.title'),
      // The method chosen on the scorecard stays with the trajectory.
      fields: [planField, regionField, indicatorField, method === 'linear' ? '' : h('input', { type: 'hidden', name: 'method', value: method })]
    })
  )
  if (planId === undefined || region === undefined || indicator === undefined) {
    root.append(h('p', {}, t('traj.choose')))
    return t('traj.title')
  }

  // The status by the chosen method, and the projection (always the projection method's,
  // which lists the actuals it extends) drawn beside the actuals.
  const [actuals, progress, projected] = await Promise.all([
    api.values({ region, indicator, kind: 'actual' }),
    api.progress(planId, { method: method === 'linear' ? undefined : method }),
    api.progress(planId, { method: 'projection' })
  ])
  const mine = targets.filter((v) => v.regionCode === region && v.indicatorCode === indicator && v.breakdown === null)
  const items = progress.items.filter((i) => i.regionCode === region && i.indicatorCode === indicator && i.breakdown === null)
  // The path runs from the baseline to the furthest target that states a baseline value.
  const pathItem = items.filter((i) => i.baselineValue !== null && i.target !== null && i.baselineYear !== null)
    .sort((a, b) => b.year - a.year)[0]
  const singleYear = actuals.filter((a) => a.fromYear === a.year).sort((a, b) => a.year - b.year)
  const yearly = mine.filter((v) => v.fromYear === v.year && v.value !== null)
  const indicatorRow = indicators.get(indicator)
  const heading = `${nameOf(indicatorRow) || indicator} · ${nameOf(regions.get(region))}`

  // The status shown is the path target's (the one the chart draws), else the first target's.
  const latest = items.find((i) => i.actual !== null || i.cumulative !== null)
  const shown = pathItem ?? latest ?? items[0]
  const projection = projectionOf(projected.items.filter((i) => i.regionCode === region && i.indicatorCode === indicator && i.breakdown === null), shown)

  // A multi-year target of a flow is drawn beside the sums so far it is compared with.
  const charted = projection.running.length > 0 ? [...yearly, ...mine.filter((v) => v.fromYear < v.year && v.value !== null)] : yearly

  const years = new Set([...actuals.map((a) => a.year), ...mine.map((v) => v.year)])
  if (pathItem !== undefined) years.add(pathItem.baselineYear)
  if (projection.line !== null) for (const [year] of projection.line) years.add(year)
  const sortedYears = [...years].sort((a, b) => a - b)

  const option = {
    grid: { left: 16, right: 24, top: 56, bottom: 32, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: 'item' },
    xAxis: { type: 'value', min: sortedYears[0], max: sortedYears.at(-1), interval: 1, axisLabel: { formatter: (v) => String(v) } },
    yAxis: { type: 'value', scale: true, name: indicatorRow === undefined ? '' : t(`unit.${indicatorRow.unit}`) },
    series: [
      ...(pathItem === undefined
        ? []
        : [{ name: t('traj.series.path'), type: 'line', symbol: 'rect', symbolSize: 8, lineStyle: { type: 'dashed' }, itemStyle: { color: COLOURS.path }, data: [[pathItem.baselineYear, Number(pathItem.baselineValue)], [pathItem.year, Number(pathItem.target)]] }]),
      { name: t('traj.series.target'), type: 'scatter', symbol: 'diamond', symbolSize: 14, itemStyle: { color: COLOURS.target }, data: charted.map((v) => [v.year, Number(v.value)]) },
      { name: t('traj.series.actual'), type: 'line', symbol: 'circle', symbolSize: 10, itemStyle: { color: COLOURS.actual }, data: singleYear.map((a) => [a.year, Number(a.value)]) },
      ...projectionSeries(projection)
    ]
  }

  const figure = latest?.actual ?? (latest?.cumulative ? { value: latest.cumulative.value, fromYear: latest.cumulative.fromYear, year: latest.cumulative.toYear } : null)
  const summary = figure !== null
    ? t(latest.actual === null ? 'traj.summarySum' : 'traj.summary', { actual: decimal(figure.value), year: periodLabel(figure.fromYear, figure.year), method: t(`method.${method}`) })
    : `${t('traj.noActual')} ${t('traj.status', { method: t(`method.${method}`) })}`

  const rows = sortedYears.map((year) => ({
    year,
    actuals: actuals.filter((a) => a.year === year),
    targets: mine.filter((v) => v.year === year)
  }))
  const pathId = uid('path')
  root.append(section(heading,
    h('p', { class: 'summary', 'data-summary': true }, summary, shown === undefined ? t('none') : statusBadge(shown.status)),
    chartFigure(heading, option, { tall: true }),
    table({
      caption: t('traj.caption'),
      rowHeader: 'year',
      className: 'trajectory-table',
      columns: [
        { key: 'year', label: t('col.year'), render: (r) => String(r.year) },
        { key: 'actual', label: t('traj.series.actual'), numeric: true, render: (r) => r.actuals.map((a) => `${decimal(a.value)}${a.fromYear !== a.year ? ` (${periodLabel(a.fromYear, a.year)})` : ''}${a.status !== 'final' ? ` (${t(`valueStatus.${a.status}`)})` : ''}`).join('; ') || '—' },
        { key: 'target', label: t('traj.series.target'), numeric: true, render: (r) => r.targets.map((v) => `${v.value === null ? v.qualitative : `${comparatorSymbol(v.comparator)} ${decimal(v.value)}`}${v.fromYear !== v.year ? ` (${periodLabel(v.fromYear, v.year)})` : ''}`).join('; ') || '—' },
        {
          key: 'path',
          label: t('traj.series.path'),
          numeric: true,
          render: (r) => pathItem === undefined
            ? '—'
            : r.year === pathItem.baselineYear ? `${t('traj.pathStart')} ${decimal(pathItem.baselineValue)}` : r.year === pathItem.year ? `${t('traj.pathEnd')} ${decimal(pathItem.target)}` : '—'
        },
        ...projection.columns
      ],
      rows
    }),
    pathItem === undefined ? h('p', { id: pathId }, t('traj.noPath')) : '',
    projection.text
  ))
  return heading
}
