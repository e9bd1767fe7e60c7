import { api, ApiError } from '../api.js'
import { COLOURS, chartFigure } from '../chart.js'
import { decimal, filterForm, h, section, selectField, table, yearField } from '../dom.js'
import { nameOf, t } from '../i18n.js'
import { defaultComparison, withinChoices } from './places.js'

const LEVELS = ['province', 'prefecture', 'county', 'township']

/** The rollup of the same year, or null when the indicator cannot be rolled up. */
async function rollupOf (within, indicator, year, level) {
  try {
    return await api.rollup(within, { indicator, from: year, to: year, level })
  } catch (err) {
    if (err instanceof ApiError && err.code === 'INDICATOR_NOT_AGGREGABLE') return null
    throw err
  }
}

/**
 * Regional comparison: the regions below one region ranked for an indicator and year
 * (GET /v1/indicators/{code}/ranking, best first by the indicator's direction), and the
 * rollup of the same year (GET /v1/regions/{code}/rollup): derived against reported.
 */
export default async function comparisonPage (root, _arg, params) {
  const [indicators, within] = await Promise.all([api.indicators(), withinChoices()])
  const chosen = params.indicator === undefined ? { ...(await defaultComparison()), ...params } : params
  const indicatorOptions = [...indicators.values()].map((i) => [i.code, nameOf(i)]).sort((a, b) => a[1].localeCompare(b[1]))

  root.append(
    h('h1', { tabindex: -1 }, t('cmp.title')),
    h('p', {}, t('cmp.intro')),
    filterForm({
      route: 'compare',
      label: t('cmp.title'),
      fields: [
        selectField({ name: 'indicator', label: t('col.indicator'), options: indicatorOptions, value: chosen.indicator }),
        yearField({ name: 'year', label: t('col.year'), value: chosen.year, required: true }),
        selectField({ name: 'within', label: t('cmp.within'), options: within, value: chosen.within }),
        selectField({ name: 'level', label: t('cmp.level'), options: LEVELS.map((l) => [l, t(`level.${l}`)]), value: chosen.level ?? 'county' })
      ]
    })
  )
  const indicator = indicators.get(chosen.indicator)
  if (indicator === undefined || chosen.year === undefined) {
    root.append(h('p', {}, t('cmp.choose')))
    return t('cmp.title')
  }
  const level = chosen.level ?? 'county'
  const [ranking, regions, rollup] = await Promise.all([
    api.ranking(indicator.code, { year: chosen.year, within: chosen.within, level }),
    api.descendants(chosen.within ?? '100000', level),
    rollupOf(chosen.within ?? '100000', indicator.code, chosen.year, level)
  ])
  const byCode = new Map(regions.map((r) => [r.code, r]))
  const regionName = (row) => nameOf(byCode.get(row.regionCode)) || row.regionName
  const ranked = ranking.filter((r) => r.rank !== null)
  const unranked = ranking.filter((r) => r.rank === null)
  const heading = `${nameOf(indicator)} · ${chosen.year}`

  const rankingSection = section(heading,
    h('p', { class: 'direction' }, t(indicator.direction === 'decrease' ? 'cmp.lower' : 'cmp.higher')),
    ranked.length === 0
      ? h('p', {}, t('cmp.noneRanked'))
      : [
          chartFigure(heading, {
            grid: { left: 16, right: 48, top: 16, bottom: 24, containLabel: true },
            tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
            xAxis: { type: 'value', name: t(`unit.${indicator.unit}`) },
            yAxis: { type: 'category', inverse: true, data: ranked.map((r) => `${r.rank}. ${regionName(r)}`) },
            series: [{ type: 'bar', name: t('cmp.value'), itemStyle: { color: COLOURS.actual }, label: { show: true, position: 'right' }, data: ranked.map((r) => Number(r.value)) }]
          }, { tall: ranked.length > 8 }),
          table({
            caption: t('cmp.caption'),
            rowHeader: 'region',
            className: 'ranking-table',
            columns: [
              { key: 'rank', label: t('cmp.rank'), numeric: true, render: (r) => String(r.rank) },
              { key: 'region', label: t('col.region'), render: regionName },
              { key: 'value', label: `${t('cmp.value')} (${t(`unit.${indicator.unit}`)})`, numeric: true, render: (r) => decimal(r.value) },
              { key: 'status', label: t('col.status'), render: (r) => t(`valueStatus.${r.status}`) }
            ],
            rows: ranked
          })
        ],
    unranked.length === 0
      ? ''
      : h('details', { class: 'unranked' },
        h('summary', {}, t('cmp.unranked', { n: unranked.length })),
        h('ul', { class: 'inline-list' }, unranked.map((r) => h('li', {}, regionName(r)))))
  )

  const withinRegion = await api.region(chosen.within ?? '100000')
  const rollupSection = section(t('cmp.rollup'),
    rollup === null
      ? h('p', {}, t('cmp.notAggregable'))
      : table({
        caption: t('cmp.rollupCaption', { region: nameOf(withinRegion) }),
        rowHeader: 'year',
        className: 'rollup-table',
        columns: [
          { key: 'year', label: t('col.year'), render: (y) => String(y.year) },
          { key: 'own', label: t('cmp.own'), numeric: true, render: (y) => decimal(y.own) },
          { key: 'value', label: t('cmp.derived'), numeric: true, render: (y) => decimal(y.value) },
          { key: 'reported', label: t('cmp.reported'), numeric: true, render: (y) => `${y.reportedCount} / ${y.regionCount}` },
          { key: 'difference', label: t('cmp.difference'), numeric: true, render: (y) => decimal(y.difference) }
        ],
        rows: rollup.years
      }))
  root.append(rankingSection, rollupSection)
  return heading
}
