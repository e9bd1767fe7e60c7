import { disposeCharts } from './chart.js'
import { h } from './dom.js'
import { htmlLang, initLang, lang, otherLang, setLang, t } from './i18n.js'
import comparison from './pages/comparison.js'
import completeness from './pages/completeness.js'
import plans from './pages/plans.js'
import scorecard from './pages/scorecard.js'
import trajectory from './pages/trajectory.js'

// Hash routes (#/plans, #/plan/<id>, ...): the service serves one page, and a link to any
// view can be shared or bookmarked.
const ROUTES = { plans, plan: scorecard, trajectory, compare: comparison, completeness }

const main = document.getElementById('main')
const announcer = document.getElementById('announcer')
const langSwitch = document.getElementById('lang-switch')
let firstRender = true
let switched = false
let renderCount = 0

function parseHash () {
  const hash = location.hash.startsWith('#/') ? location.hash.slice(2) : ''
  const [path = '', query = ''] = hash.split('?')
  const [name = 'plans', ...rest] = path.split('/').filter((s) => s !== '')
  return { name, arg: rest.map(decodeURIComponent).join('/'), params: Object.fromEntries(new URLSearchParams(query)) }
}

/** The header, footer and switch in the current language. */
function renderShell (active) {
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n)
  for (const el of document.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel))
  for (const link of document.querySelectorAll('#site-nav a[data-route]')) {
    if (link.dataset.route === active) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  langSwitch.textContent = t('lang.other')
  langSwitch.setAttribute('lang', htmlLang(otherLang()))
}

async function render () {
  const route = parseHash()
  const page = ROUTES[route.name]
  const active = route.name === 'plan' ? 'plans' : route.name
  const mine = ++renderCount
  // A control that redraws its own page (the progress method switch) keeps focus.
  const keep = document.activeElement?.hasAttribute('data-keep-focus') ? document.activeElement.id : undefined
  renderShell(active)
  disposeCharts()
  main.setAttribute('aria-busy', 'true')
  main.replaceChildren(h('p', {}, t('loading')))
  let title
  const content = document.createDocumentFragment()
  try {
    if (page === undefined) {
      title = t('notFound')
      content.append(h('h1', { tabindex: -1 }, title))
    } else {
      title = await page(content, route.arg, route.params)
    }
  } catch (err) {
    title = t('error', { detail: err.message })
    content.replaceChildren(h('h1', { tabindex: -1 }, t('app.title')), h('p', { class: 'error', role: 'alert' }, title))
  }
  if (mine !== renderCount) return // a later navigation already took over
  main.replaceChildren(content)
  main.removeAttribute('aria-busy')
  document.title = `${title} · ${t('app.title')}`
  // After a navigation, focus goes to the new page's heading so a screen reader reads it
  // and the next Tab starts in the page; on first load it stays at the top of the page.
  const kept = keep === undefined ? null : document.getElementById(keep)
  if (kept !== null) kept.focus()
  else if (!firstRender) main.querySelector('h1')?.focus()
  announcer.textContent = `${switched ? `${t('lang.switched')} ` : ''}${t('loaded', { title })}`
  switched = false
  firstRender = false
  main.dataset.ready = String(mine)
}

langSwitch.addEventListener('click', () => {
  setLang(otherLang())
  switched = true
  // The page is drawn again in the new language; focus stays on the switch.
  firstRender = true
  render()
})

initLang()
document.documentElement.lang = htmlLang(lang())
// Only #/... is a route: the skip link's #main moves focus as a plain anchor and keeps the view.
window.addEventListener('hashchange', () => { if (location.hash === '' || location.hash.startsWith('#/')) render() })
render()
