import t from 'tap'
import { DASHBOARD_CSP } from '../src/plugins/dashboard.ts'
import { build } from './helper.ts'

const app = await build(t)
// The security headers every API answer carries, as the service sends them.
const api = (await app.inject('/v1/regions?limit=1')).headers

t.test('/ serves the dashboard page with its own policy: scripts and styles from this origin only', async (t) => {
  const res = await app.inject('/')
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.body, /<script type="module" src="\/app\.js"><\/script>/)
  t.equal(res.headers['content-security-policy'], DASHBOARD_CSP)
  t.match(DASHBOARD_CSP, /script-src 'self'(;|$)/)
  t.notMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval/, 'no inline script, no eval')
  t.notMatch(res.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page')
  t.notMatch(res.body, /\bstyle=/, 'no inline style in the page')
  t.equal(res.headers['x-frame-options'], api['x-frame-options'], 'the other security headers as on the API')
  t.equal(res.headers['x-content-type-options'], 'nosniff')
})

t.test('the page\'s modules and ECharts\' ES module bundle are served from this service', async (t) => {
  for (const url of ['/app.js', '/pages/scorecard.js', '/dashboard.css', '/vendor/echarts/echarts.esm.min.mjs']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], url.endsWith('.css') ? /^text\/css/ : /^(application|text)\/javascript/, url)
    t.equal(res.headers['content-security-policy'], DASHBOARD_CSP, `${url} carries the page policy`)
  }
  const echarts = await app.inject('/vendor/echarts/echarts.esm.min.mjs')
  t.match(echarts.body.slice(0, 2000), /Apache License/, 'the echarts package, licence header kept')
})

t.test('only the listed files are served; everything else keeps the API\'s answers', async (t) => {
  for (const url of ['/vendor/echarts/echarts.js', '/vendor/echarts/package.json', '/nothing.js', '/../package.json', '/pages/']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 404, url)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${url}: a problem`)
    t.equal(res.headers['content-security-policy'], api['content-security-policy'], `${url}: the API's policy`)
  }
  const regions = await app.inject('/v1/regions')
  t.equal(regions.statusCode, 200)
  t.equal(regions.headers['content-security-policy'], api['content-security-policy'], 'API answers keep the policy that allows nothing')
  t.equal((await app.inject('/health/live')).statusCode, 200)
  t.equal((await app.inject('/openapi.json')).statusCode, 200)
  const docs = await app.inject('/docs/')
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /script-src 'self'/)
})

t.test('the dashboard routes are not part of the API document', async (t) => {
  const doc = JSON.parse((await app.inject('/openapi.json')).body) as { paths: Record<string, unknown> }
  t.same(Object.keys(doc.paths).filter((p) => !p.startsWith('/v1/') && !p.startsWith('/health/') && p !== '/metrics'), [])
})
