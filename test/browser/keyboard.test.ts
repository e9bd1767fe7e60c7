import t from 'tap'
import type { Page } from 'playwright-core'
import { json } from '../helper.ts'
import { axeViolations, noChromium, openPage, screenshot, startDashboard, until } from './browser.ts'

// Keyboard-only walks: Tab, Shift+Tab, Enter and the arrow keys, no mouse. Each step
// checks where focus is and that the focused element shows a visible focus indicator.
if (!noChromium(t)) {
  const d = await startDashboard(t)

  /** The focused element: its tag, text or label, and whether it draws a focus outline. */
  const focused = (page: Page) => page.evaluate(`(() => {
    const el = document.activeElement
    const style = getComputedStyle(el)
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 80),
      href: el.getAttribute('href'),
      name: el.getAttribute('name'),
      outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
    }
  })()`) as Promise<{ tag: string, text: string, href: string | null, name: string | null, outline: boolean }>

  /** Presses Tab until `match` holds for the focused element (at most `limit` times); the stops on the way. */
  async function tabTo (page: Page, match: (f: Awaited<ReturnType<typeof focused>>) => boolean, limit = 60) {
    const stops: Array<Awaited<ReturnType<typeof focused>>> = []
    for (let i = 0; i < limit; i++) {
      await page.keyboard.press('Tab')
      const f = await focused(page)
      stops.push(f)
      if (match(f)) return stops
    }
    throw new Error(`not reached in ${limit} Tabs; stops: ${stops.map((s) => s.text || s.tag).join(' | ')}`)
  }

  const waitView = async (page: Page, before: string) =>
    until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
  const ready = (page: Page) => page.evaluate('document.getElementById("main").dataset.ready') as Promise<string>

  t.test('skip link, navigation, a plan and one of its targets, by Tab and Enter', async (t) => {
    const { page, problems } = await openPage(d)
    const first = await tabTo(page, () => true)
    t.equal(first[0]!.text, '跳到主要内容', 'the first stop is the skip link')
    t.ok(first[0]!.outline, 'with a visible focus outline')
    await page.keyboard.press('Enter')
    t.equal((await focused(page)).tag, 'main', 'the skip link moves focus to the main content')
    t.equal(await page.evaluate('document.querySelector("h1").textContent'), '查找规划', 'and keeps the view')

    // From the main content on: the form's controls, then the plans.
    const toPlan = await tabTo(page, (f) => f.href === '#/plan/huangyan-disability-14th-fyp')
    t.same(toPlan.slice(0, 4).map((f) => f.name ?? f.tag), ['region', 'kind', 'year', 'button'], 'the filters first, in reading order')
    t.ok(toPlan.every((f) => f.outline), 'every stop shows where focus is')
    const before = await ready(page)
    await page.keyboard.press('Enter')
    await waitView(page, before)
    const plan = json(await d.app.inject('/v1/plans/huangyan-disability-14th-fyp'))
    const onHeading = await focused(page)
    t.equal(onHeading.tag, 'h1', 'after the navigation focus is on the new page\'s heading')
    t.equal(onHeading.text, plan.title)
    t.match(await page.evaluate('document.title'), plan.title, 'and the document title names the page')
    t.match(await page.evaluate('document.getElementById("announcer").textContent'), plan.title, 'announced to screen readers')

    // On to the first target's trajectory.
    const toTarget = await tabTo(page, (f) => (f.href ?? '').startsWith('#/trajectory'))
    t.ok(toTarget.some((f) => f.name === 'asOf'), 'past the year field')
    const target = toTarget.at(-1)!
    const beforeTarget = await ready(page)
    await page.keyboard.press('Enter')
    await waitView(page, beforeTarget)
    t.equal((await focused(page)).text, '指标轨迹', 'the trajectory page\'s heading has focus')
    t.match(await page.evaluate('document.querySelector("main h2").textContent'), target.text, 'showing the chosen indicator')

    t.same(problems, [])
  })

  t.test('the language switch by keyboard, and the form driven with arrow keys', async (t) => {
    const { page, problems } = await openPage(d)
    const stops = await tabTo(page, (f) => f.text === 'English')
    t.same(stops.slice(1, 6).map((f) => f.text), ['规划', '指标轨迹', '地区比较', '数据完整性', '接口文档'], 'the navigation links in order, before the switch')
    const before = await ready(page)
    await page.keyboard.press('Enter')
    await waitView(page, before)
    t.equal(await page.evaluate('document.documentElement.lang'), 'en')
    const f = await focused(page)
    t.equal(f.text, '中文', 'focus stays on the switch, which now offers Chinese')
    t.match(await page.evaluate('document.getElementById("announcer").textContent'), /English/, 'the change is announced')
    await page.keyboard.press('Shift+Tab')
    t.equal((await focused(page)).text, 'API docs', 'Shift+Tab goes back through the navigation, now in English')

    // The kind filter chosen with the arrow keys and sent with Enter.
    await tabTo(page, (f) => f.name === 'kind')
    await page.keyboard.press('ArrowDown') // the first kind after "All"
    await tabTo(page, (f) => f.tag === 'button' && f.text === 'Show')
    const beforeFilter = await ready(page)
    await page.keyboard.press('Enter')
    await waitView(page, beforeFilter)
    t.match(await page.evaluate('location.hash'), /kind=five-year-plan/)
    const count = json(await d.app.inject('/v1/plans?kind=five-year-plan')).items.length
    t.equal(await page.evaluate('document.querySelector(".result-count").textContent'), `${count} plans found`)
    t.same(await axeViolations(page), [])
    await screenshot(page, 'keyboard-filtered-en')
    t.same(problems, [])
  })

  t.test('tables that scroll sideways at 200% zoom can be reached and scrolled by keyboard', async (t) => {
    const { page, problems } = await openPage(d, '#/plan/huangyan-disability-14th-fyp', { width: 640, height: 800 })
    const region = await tabTo(page, (f) => f.tag === 'div' && f.text.startsWith('目标'))
    t.ok(region.at(-1)!.outline, 'the table region shows focus')
    const before = await page.evaluate('document.querySelector(".targets-table").parentElement.scrollLeft') as number
    await page.keyboard.press('ArrowRight')
    await page.keyboard.press('ArrowRight')
    const after = await until(page, `document.querySelector('.targets-table').parentElement.scrollLeft > ${before} && document.querySelector('.targets-table').parentElement.scrollLeft`)
    t.ok((after as number) > before, 'the arrow keys scroll it')
    t.same(problems, [])
  })
}
