import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page, type Request } from 'playwright-core'
import { build, json } from '../helper.ts'

/**
 * Browser tests drive Debian's Chromium (`apt-get install chromium`) through
 * playwright-core: no browser is downloaded. Without it the tests skip, except in CI
 * (CI=true), where a missing browser is a failure.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const screenshots = fileURLToPath(new URL('./screenshots/', import.meta.url))
const require = createRequire(import.meta.url)

interface Tap {
  teardown: (fn: () => unknown) => void
  plan: (n: number, comment?: string) => void
  fail: (message: string) => void
}

/** True (and the test planned as skipped, or failed in CI) when there is no Chromium. */
export function noChromium (t: Tap): boolean {
  if (existsSync(CHROMIUM)) return false
  const message = `no chromium: ${CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)`
  if (process.env.CI === 'true') t.fail(message)
  else t.plan(0, message)
  return true
}

export interface Dashboard { app: FastifyInstance, base: string, browser: Browser }

/**
 * The app on the seeded data, listening on an ephemeral port, and a headless browser.
 * Answers stay fresh for one second only, so every test also runs through the browser's
 * revalidation of stale answers (stale-while-revalidate), as a slow run otherwise would
 * by chance.
 */
export async function startDashboard (t: Tap): Promise<Dashboard> {
  const app = await build(t, { seed: true, caching: { maxAge: 1, staleWhileRevalidate: 30 } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-background-networking'] })
  t.teardown(() => browser.close())
  await mkdir(screenshots, { recursive: true })
  return { app, base: `http://127.0.0.1:${address.port}`, browser }
}

/** A GET through the app itself: the API's answer the page is checked against. */
export function apiOf (d: Dashboard) {
  return async (url: string) => {
    const res = await d.app.inject(url)
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    return json(res)
  }
}

export interface Opened { page: Page, problems: string[] }

/**
 * Chromium's own revalidation of a stale answer within its stale-while-revalidate window
 * (RFC 5861): the page's fetch was answered from the cache at once, and the browser asks
 * the server in the background (If-None-Match, answered 304) to refresh its copy for next
 * time. No page code waits for it, and Chromium drops its loader once the cache is
 * refreshed, which DevTools reports as net::ERR_ABORTED on a request of type `other`. It
 * is not a failure of the page; a failed fetch of the page's own (type `fetch`) still is.
 */
function isBackgroundRevalidation (r: Request): boolean {
  return r.resourceType() === 'other' && r.failure()?.errorText === 'net::ERR_ABORTED' && new URL(r.url()).pathname.startsWith('/v1/')
}

/**
 * A new page (its own storage, so the language starts unchosen). `problems` collects
 * console errors (a Content-Security-Policy refusal is one), uncaught errors and failed
 * requests, which every test expects to stay empty.
 */
export async function openPage (d: Dashboard, hash = '', viewport = { width: 1280, height: 900 }): Promise<Opened> {
  const context = await d.browser.newContext({ viewport, locale: 'zh-CN' })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('requestfailed', (r) => { if (!isBackgroundRevalidation(r)) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`) })
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`) })
  await page.goto(`${d.base}/${hash}`)
  await settled(page)
  return { page, problems }
}

/**
 * Polls `expression` in the page until it is truthy. page.evaluate goes through the
 * DevTools protocol; Playwright's waitForFunction compiles its predicate in the page,
 * which the page's policy (no eval) rightly refuses.
 */
export async function until (page: Page, expression: string, timeoutMs = 20_000): Promise<unknown> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await page.evaluate(expression)
    if (value !== false && value !== null && value !== undefined && value !== '') return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${expression}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Waits until the page has drawn its view (and its charts) after a navigation. */
export async function settled (page: Page, previous?: string): Promise<string> {
  return until(page, `(() => {
    const main = document.getElementById('main')
    if (main.dataset.ready === undefined || main.dataset.ready === ${JSON.stringify(previous ?? '')} || main.hasAttribute('aria-busy')) return false
    return [...document.querySelectorAll('.chart')].every((c) => c.dataset.rendered === 'true') && main.dataset.ready
  })()`) as Promise<string>
}

/** Navigates by hash and waits for the new view. */
export async function go (page: Page, hash: string): Promise<void> {
  const before = await page.evaluate('document.getElementById("main").dataset.ready') as string
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`)
  await settled(page, before)
}

let axeSource: string | undefined

/** axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is: the violations, rule and nodes. */
export async function axeViolations (page: Page): Promise<string[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8')
  // Evaluated through the DevTools protocol, which the page's policy does not govern, so
  // the policy under test stays as served (no bypassCSP).
  await page.evaluate(axeSource)
  const result = await page.evaluate('axe.run(document, { runOnly: { type: \'tag\', values: [\'wcag2a\', \'wcag2aa\', \'wcag21a\', \'wcag21aa\'] }, resultTypes: [\'violations\'] })') as { violations: Array<{ id: string, help: string, nodes: Array<{ target: string[] }> }> }
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`)
}

export async function screenshot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true })
}

/** The text of every cell of the table whose caption is `caption`, row by row. */
export async function tableText (page: Page, caption: string): Promise<string[][]> {
  return page.evaluate(`(() => {
    const table = [...document.querySelectorAll('table')].find((t) => t.caption && t.caption.textContent === ${JSON.stringify(caption)})
    if (!table) return null
    return [...table.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent.trim()))
  })()`) as Promise<string[][]>
}
