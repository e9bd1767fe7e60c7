import { api, regionsByCode } from '../api.js'
import { filterForm, h, selectField, table, yearField } from '../dom.js'
import { nameOf, t } from '../i18n.js'

const KINDS = ['five-year-plan', 'annual-work-plan', 'work-summary', 'special-action-plan']

/** Plans: find a plan by region, kind and year (the filters of GET /v1/plans). */
export default async function plansPage (root, _arg, params) {
  const every = await api.plans()
  const regions = await regionsByCode(every.map((p) => p.regionCode))
  const found = await api.plans({ region: params.region, kind: params.kind, year: params.year })

  const regionOptions = [...regions.values()].sort((a, b) => a.code.localeCompare(b.code))
    .map((r) => [r.code, `${nameOf(r)} (${r.code})`])
  root.append(
    h('h1', { tabindex: -1 }, t('plans.title')),
    h('p', {}, t('plans.intro')),
    filterForm({
      route: 'plans',
      label: t('plans.title'),
      fields: [
        selectField({ name: 'region', label: t('plans.region'), options: [['', t('all')], ...regionOptions], value: params.region }),
        selectField({ name: 'kind', label: t('plans.kind'), options: [['', t('all')], ...KINDS.map((k) => [k, t(`kind.${k}`)])], value: params.kind }),
        yearField({ name: 'year', label: t('plans.year'), value: params.year })
      ]
    }),
    h('p', { class: 'result-count', id: 'plans-count' }, t('plans.found', { n: found.length })),
    table({
      caption: t('plans.caption'),
      rowHeader: 'title',
      columns: [
        { key: 'title', label: t('col.title'), render: (p) => h('a', { href: `#/plan/${encodeURIComponent(p.id)}`, 'data-plan': p.id }, nameOf(p)) },
        { key: 'kind', label: t('col.kind'), render: (p) => t(`kind.${p.kind}`) },
        { key: 'region', label: t('col.region'), render: (p) => nameOf(regions.get(p.regionCode)) },
        { key: 'period', label: t('col.period'), render: (p) => (p.startYear === p.endYear ? String(p.startYear) : `${p.startYear}–${p.endYear}`) },
        { key: 'status', label: t('col.planStatus'), render: (p) => t(`planStatus.${p.status}`) }
      ],
      rows: found
    })
  )
  return t('plans.title')
}
