import { lang, t } from './i18n.js'

/** An element: h('a', { href: '#/x', class: 'y' }, 'text', child). */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (key === 'class') el.className = value
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

function append (el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

let ids = 0
export const uid = (prefix) => `${prefix}-${++ids}`

/**
 * A data table with a caption, column headers and, when `rowHeader` names a column, row
 * headers. It sits in a focusable, labelled region so it can be scrolled sideways from
 * the keyboard on a narrow (or 200% zoomed) screen.
 */
export function table ({ caption, columns, rows, rowHeader, className }) {
  const head = h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : undefined }, c.label)))
  const body = rows.map((row) => h('tr', { class: row.className }, columns.map((c) => {
    const content = c.render(row)
    const cls = c.numeric ? 'num' : undefined
    return c.key === rowHeader ? h('th', { scope: 'row', class: cls }, content) : h('td', { class: cls }, content)
  })))
  const captionId = uid('caption')
  return h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: 0 },
    h('table', { class: className }, h('caption', { id: captionId }, caption), h('thead', {}, head), h('tbody', {}, body)))
}

export const STATUS_SYMBOL = {
  achieved: '✔',
  'on-track': '●',
  'at-risk': '▲',
  'off-track': '✖',
  'no-data': '○',
  'not-assessable': '–'
}

/** A status as a symbol and a word, coloured too: the colour is never the only carrier. */
export function statusBadge (status) {
  return h('span', { class: `status status-${status}` }, h('span', { 'aria-hidden': 'true' }, STATUS_SYMBOL[status] ?? ''), ' ', t(`status.${status}`))
}

const COMPARATOR = { 'at-least': '≥', 'at-most': '≤', exactly: '=' }
export const comparatorSymbol = (c) => COMPARATOR[c] ?? ''

/** A decimal as the API gives it (a string), grouped for reading; never rounded. */
export function decimal (value) {
  if (value === null || value === undefined) return '—'
  const [whole, fraction] = String(value).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return fraction === undefined ? grouped : `${grouped}.${fraction}`
}

/** An attainment ratio (1 = target reached) as a percentage with one decimal. */
export function percent (ratio) {
  if (ratio === null || ratio === undefined) return '—'
  return `${(Number(ratio) * 100).toFixed(1)}%`
}

export const yearLabel = (year) => (lang() === 'zh' ? `${year}年` : String(year))
export const periodLabel = (from, to) => (from === to ? yearLabel(to) : t('traj.period', { from, to }))

/** A labelled <select>; `options` are [value, label] pairs. */
export function selectField ({ name, label, options, value }) {
  const id = uid(name)
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name }, options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, l))))
}

/** A labelled year input. */
export function yearField ({ name, label, value, required }) {
  const id = uid(name)
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('input', { id, name, type: 'number', inputmode: 'numeric', min: 1949, max: 2100, step: 1, value: value ?? '', required }))
}

/** A form whose submission becomes the hash route `#/<route>?<fields>`. */
export function filterForm ({ route, fields, submitLabel = t('show'), label }) {
  const form = h('form', { class: 'filters', 'aria-label': label }, fields, h('div', { class: 'field field-submit' }, h('button', { type: 'submit' }, submitLabel)))
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const params = new URLSearchParams()
    for (const [key, value] of new FormData(form)) if (value !== '') params.set(key, String(value))
    const query = params.toString()
    location.hash = `#/${route}${query === '' ? '' : `?${query}`}`
  })
  return form
}

export function section (title, ...children) {
  const id = uid('section')
  return h('section', { 'aria-labelledby': id }, h('h2', { id }, title), children)
}
