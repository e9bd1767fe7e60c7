import * as echarts from '/vendor/echarts/echarts.esm.min.mjs'
import { lang, t } from './i18n.js'
import { h } from './dom.js'

// Text and series colours that keep at least 4.5:1 (text) and 3:1 (graphics) on white.
export const COLOURS = {
  achieved: '#1a6e34',
  'on-track': '#1d5ea8',
  'at-risk': '#8a4b00',
  'off-track': '#b0261e',
  'no-data': '#5c5c5c',
  'not-assessable': '#7a4a8c',
  actual: '#1d5ea8',
  path: '#5c5c5c',
  target: '#b0261e'
}

const live = new Set()

/**
 * A chart in a figure. The chart is an image to assistive technology, labelled with
 * `label` and pointing to the table that follows it, which carries the same figures;
 * ECharts' decal patterns tell series apart without colour.
 */
export function chartFigure (label, option, { tall = false } = {}) {
  const box = h('div', { class: tall ? 'chart chart-tall' : 'chart', role: 'img', 'aria-label': `${label}. ${t('chartNote')}` })
  const figure = h('figure', { class: 'chart-figure' }, box, h('figcaption', {}, label))
  // Drawn once the box is in the document and has its size.
  requestAnimationFrame(() => {
    if (!box.isConnected) return
    const chart = echarts.init(box, null, { renderer: 'canvas', locale: lang() === 'en' ? 'EN' : 'ZH' })
    chart.setOption({
      animation: false,
      aria: { enabled: true, label: { enabled: false }, decal: { show: true } },
      textStyle: { fontFamily: 'inherit', fontSize: 14, color: '#1a1a1a' },
      ...option
    })
    live.add(chart)
    box.dataset.rendered = 'true'
  })
  return figure
}

/** Charts of the page being left are released. */
export function disposeCharts () {
  for (const chart of live) chart.dispose()
  live.clear()
}

window.addEventListener('resize', () => { for (const chart of live) chart.resize() })
