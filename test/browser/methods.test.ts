import t from 'tap'
import type { Page } from 'playwright-core'
import { call } from '../helper.ts'
import { apiOf, axeViolations, go, noChromium, openPage, screenshot, startDashboard, tableText, until } from './browser.ts'

// The progress methods on the scorecard and the projection on the trajectory, read against
// the API's answers for each method. The seed's Huangyan plan (2021-2025) has no actual
// inside its period, so every target would read no-data under every method; a few yearly
// actuals are reported first, as a county would.
if (!noChromium(t)) {
  const d = await startDashboard(t)
  const api = apiOf(d)
  const report = async (indicatorCode: string, year: number, value: string) => {
    const res = await call(d.app, 'POST', '/v1/values', { kind: 'actual', regionCode: '331003', indicatorCode, year, value })
    if (res.statusCode !== 201) throw new Error(res.body)
  }
  const reports: Array<[string, number, string]> = [
    // high-school-enrollment-rate: baseline 81 (2020), target >= 95 in 2025. A rate.
    ['high-school-enrollment-rate', 2021, '84'], ['high-school-enrollment-rate', 2022, '86'], ['high-school-enrollment-rate', 2023, '88'],
    // employment-rate: baseline 57 (2020), target >= 62 in 2025.
    ['employment-rate', 2022, '58'], ['employment-rate', 2023, '58.5'],
    // accessible-film-beneficiaries: a flow, >= 1000 over 2021-2025, summed from yearly actuals.
    ['accessible-film-beneficiaries', 2021, '150'], ['accessible-film-beneficiaries', 2022, '250'], ['accessible-film-beneficiaries', 2023, '200'],
    // blind-massage-institutions: no baseline and a single actual, too few for a projection.
    ['blind-massage-institutions', 2023, '6']
  ]
  for (const [indicatorCode, year, value] of reports) await report(indicatorCode, year, value)

  const plan = 'huangyan-disability-14th-fyp'
  const CAPTION = '目标（约束性目标在前，偏离进度的在前）'
  const STATUS_ZH: Record<string, string> = { achieved: '已达成', 'on-track': '正常推进', 'at-risk': '存在风险', 'off-track': '偏离进度', 'no-data': '无数据', 'not-assessable': '无法评估' }
  const { page, problems } = await openPage(d)

  /** The targets table as objects keyed by column header, with each row's target id. */
  const rowsOf = async (p: Page) => p.evaluate(`(() => {
    const table = [...document.querySelectorAll('table')].find((t) => t.caption && t.caption.textContent === ${JSON.stringify(CAPTION)})
    const heads = [...table.tHead.rows[0].cells].map((c) => c.textContent.trim())
    return [...table.tBodies[0].rows].map((r) => ({
      id: Number(r.querySelector('[data-target]').dataset.target),
      cells: Object.fromEntries([...r.cells].map((c, n) => [heads[n], c.textContent.trim()])),
      points: [...r.querySelectorAll('[data-point]')].map((a) => Number(a.dataset.point))
    }))
  })()`) as Promise<Array<{ id: number, cells: Record<string, string>, points: number[] }>>
  const ready = (p: Page) => p.evaluate('document.getElementById("main").dataset.ready') as Promise<string>
  // A decimal as the page writes it: the API's digits, grouped by thousands.
  const grouped = (v: string) => v.replace(/^(-?\d+)/, (w) => w.replace(/\B(?=(\d{3})+(?!\d))/g, ','))
  const dash = (v: string | null | undefined) => (v === null || v === undefined ? '—' : grouped(v))

  const answers: Record<string, any> = {}
  for (const m of ['linear', 'projection', 'growth-ratio']) answers[m] = await api(`/v1/plans/${plan}/progress?method=${m}`)
  const byId = (m: string) => new Map<number, any>(answers[m].items.map((i: any) => [i.targetId, i]))

  t.test('the answers differ by method on these targets, so the page has something to show', async (t) => {
    const hs = (m: string) => byId(m).get(answers.linear.items.find((i: any) => i.indicatorCode === 'high-school-enrollment-rate').targetId)
    // Linear: expected at 2023 = 81 + 14 * 3/5 = 89.4; made 7 >= 0.6 * 8.4: at-risk.
    // Projection over the seed's 2020 actual (81) and 2021-2023: (88 - 81) / 3 a year,
    // 88 + 2 * 7/3 = 92.666667; misses 2.33 of the 7 left (33%): off-track.
    t.same([hs('linear').status, hs('projection').status, hs('growth-ratio').status], ['at-risk', 'off-track', 'at-risk'])
    t.equal(hs('projection').trend.projected, '92.666667')
  })

  t.test('the scorecard follows the method switch, figure for figure', async (t) => {
    await go(page, `#/plan/${plan}`)
    for (const m of ['linear', 'projection', 'growth-ratio']) {
      if (m !== 'linear') {
        const before = await ready(page)
        await page.check(`#method-${m}`)
        await until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
        await until(page, '[...document.querySelectorAll(".chart")].every((c) => c.dataset.rendered === "true")')
      }
      t.equal(await page.evaluate('location.hash'), m === 'linear' ? `#/plan/${plan}` : `#/plan/${plan}?method=${m}`, `${m}: remembered in the link`)
      t.ok(await page.isChecked(`#method-${m}`), `${m}: the switch shows it`)
      t.equal(await page.getAttribute('.method-facts', 'data-method'), m, `${m}: the method described is the answer's`)
      const answer = answers[m]
      const facts = await page.locator('.method-facts').innerText()
      if (answer.method.trend === null) {
        t.match(facts, answer.method.expected, 'the linear formula')
        t.match(facts, answer.method.atRiskShare, 'and its at-risk share')
      } else {
        t.match(facts, answer.method.trend.formula, `${m}: the formula`)
        t.match(facts, answer.method.trend.source, `${m}: the source`)
        for (const [key, value] of Object.entries(answer.method.trend.thresholds as Record<string, string>)) {
          const shown = key.startsWith('onTrackFrom') || key.startsWith('atRiskFrom') ? value : `${(Number(value) * 100).toFixed(1)}%`
          t.match(facts, shown, `${m}: threshold ${key} ${value}`)
        }
      }
      const items = byId(m)
      const rows = await rowsOf(page)
      t.equal(rows.length, answer.items.length, `${m}: one row per target`)
      for (const row of rows) {
        const i = items.get(row.id)
        t.match(row.cells['状态'], STATUS_ZH[i.status]!, `${m} ${i.indicatorCode} ${i.year}: status`)
        t.equal(row.cells['说明（接口原文）'], i.reason, `${m} ${i.indicatorCode} ${i.year}: the reason`)
        if (i.cumulative !== null) {
          t.match(row.cells['最新实际值或期内累计'], `累计 ${grouped(i.cumulative.value)} (${i.cumulative.fromYear}–${i.cumulative.toYear}年累计)`, `${m} ${i.indicatorCode}: the sum so far`)
          t.match(row.cells['最新实际值或期内累计'], `期间已过 ${(Number(i.cumulative.periodElapsed) * 100).toFixed(1)}%`, `${m} ${i.indicatorCode}: the share of the period elapsed`)
        }
        if (m === 'linear') t.equal(row.cells['线性路径值'], dash(i.expected), `${i.indicatorCode}: path value`)
        if (m === 'projection') {
          t.equal(row.cells['目标年预测值'], dash(i.trend?.projected), `${i.indicatorCode}: projected`)
          t.equal(row.cells['年均变化'], dash(i.trend?.averageAnnualChange), `${i.indicatorCode}: average change`)
        }
        if (m === 'growth-ratio') {
          t.equal(row.cells['增长率比'], dash(i.trend?.growthRatio), `${i.indicatorCode}: growth ratio`)
          t.equal(row.cells['实际年均增长'], dash(i.trend?.observedGrowth), `${i.indicatorCode}: observed growth`)
          t.equal(row.cells['所需年均增长'], dash(i.trend?.requiredGrowth), `${i.indicatorCode}: required growth`)
        }
        if (m !== 'linear') t.same(row.points, (i.trend?.points ?? []).map((p: any) => p.id), `${m} ${i.indicatorCode}: the actuals used, by id`)
      }
      const summary = await tableText(page, '各约束类别的目标状态数')
      t.same(summary[0]!.slice(1, 3), [String(answer.summary.binding['off-track']), String(answer.summary.binding['at-risk'])], `${m}: the summary is the method's`)
      t.same(await axeViolations(page), [], `${m}: no axe violations`)
      await screenshot(page, `scorecard-${m}-zh`)
    }
    // The statuses on the page changed with the method.
    t.not(JSON.stringify(answers.linear.summary), JSON.stringify(answers.projection.summary), 'the methods disagree on this plan')
    t.same(problems.splice(0), [])
  })

  t.test('the method switch by keyboard: Tab to it, arrows to choose, focus stays', async (t) => {
    const { page, problems } = await openPage(d, `#/plan/${plan}`)
    let reached = false
    for (let n = 0; n < 40 && !reached; n++) {
      await page.keyboard.press('Tab')
      reached = await page.evaluate('document.activeElement.id === "method-linear"') as boolean
    }
    t.ok(reached, 'Tab reaches the checked method')
    t.ok(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle !== "none"'), 'with a visible focus outline')
    t.equal(await page.evaluate('document.activeElement.labels[0].textContent'), '线性路径 linear', 'labelled')
    t.equal(await page.evaluate('document.activeElement.closest("fieldset").querySelector("legend").textContent'), '评估方法', 'in a group named by its legend')
    for (const m of ['projection', 'growth-ratio']) {
      const before = await ready(page)
      await page.keyboard.press('ArrowRight')
      await until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
      t.equal(await page.evaluate('document.activeElement.id'), `method-${m}`, `${m}: focus stays on the chosen method`)
      t.equal(await page.evaluate('location.hash'), `#/plan/${plan}?method=${m}`)
      t.equal(await page.getAttribute('.method-facts', 'data-method'), m)
    }
    // A reload (or a shared link) opens the same method.
    await page.reload()
    await until(page, 'document.getElementById("main").dataset.ready && !document.getElementById("main").hasAttribute("aria-busy")')
    t.ok(await page.isChecked('#method-growth-ratio'), 'remembered in the link')

    // English labels.
    const before = await ready(page)
    await page.click('#lang-switch')
    await until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
    t.equal(await page.locator('.method-switch legend').innerText(), 'Progress method')
    t.same(await page.locator('.method-option label').allInnerTexts(), ['Linear path linear', 'Projection projection', 'Growth ratio growth-ratio'])
    t.same(await axeViolations(page), [], 'no axe violations in English')
    await screenshot(page, 'scorecard-growth-ratio-en')
    t.same(problems, [])
  })

  t.test('200% zoom: the switch and the method\'s figures wrap, nothing lost', async (t) => {
    const zoomed = await openPage(d, `#/plan/${plan}?method=growth-ratio`, { width: 640, height: 800 })
    const overflow = await zoomed.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
    t.ok(overflow <= 0, `the page is no wider than the window (${overflow} px over)`)
    t.ok(await zoomed.page.isChecked('#method-growth-ratio'))
    t.same(await axeViolations(zoomed.page), [])
    await screenshot(zoomed.page, 'scorecard-growth-ratio-zoom')
    t.same(zoomed.problems, [])
  })

  t.test('trajectory: the projection beside the actuals, the path and the targets', async (t) => {
    const indicator = 'high-school-enrollment-rate'
    await go(page, `#/trajectory?plan=${plan}&region=331003&indicator=${indicator}`)
    const item = answers.projection.items.find((i: any) => i.indicatorCode === indicator)
    const rows = await tableText(page, '历年实际值与目标')
    const col = (year: number) => rows.find((r) => r[0] === String(year))?.[4]
    const last = item.trend.points.at(-1)
    t.equal(col(item.year), `预测 ${grouped(item.trend.projected)}`, 'the projected value in the target\'s year')
    t.equal(col(last.year), `起点 ${grouped(last.value)}`, 'from the latest actual the projection extends')
    t.equal(rows.find((r) => r[0] === String(item.year))?.[3], `目标 ${grouped(item.target)}`, 'beside the path\'s end')
    t.equal(await page.getAttribute('[data-projection]', 'data-projection'), item.trend.projected)
    t.match(await page.locator('[data-projection]').innerText(), `${item.trend.points.length} 个实际值`)
    t.match(await page.locator('[data-projection]').innerText(), STATUS_ZH[item.trend.status]!)
    await until(page, 'document.querySelector(".chart").dataset.rendered === "true"')
    t.same(await axeViolations(page), [])
    await screenshot(page, 'trajectory-projection-zh')

    // A flow summed over its period: the sums so far, then the projected total.
    const flow = answers.projection.items.find((i: any) => i.indicatorCode === 'accessible-film-beneficiaries')
    await go(page, `#/trajectory?plan=${plan}&region=331003&indicator=accessible-film-beneficiaries`)
    const flowRows = await tableText(page, '历年实际值与目标')
    t.equal(flowRows.find((r) => r[0] === String(flow.year))?.[4], `预测 ${grouped(flow.trend.projected)}`)
    t.equal(flowRows.find((r) => r[0] === String(flow.cumulative.toYear))?.[4], `累计 ${grouped(flow.cumulative.value)}`, 'the running sum ends at the API\'s sum')
    t.same(await axeViolations(page), [])
    await screenshot(page, 'trajectory-flow-zh')

    // A single actual: no projection, and the page says why.
    await go(page, `#/trajectory?plan=${plan}&region=331003&indicator=blind-massage-institutions`)
    const single = answers.projection.items.find((i: any) => i.indicatorCode === 'blind-massage-institutions')
    t.match(single.trend, { status: 'not-assessable', projected: null })
    t.match(await page.locator('[data-projection]').innerText(), '趋势预测需要至少两个实际值，现有 1 个')
    t.equal((await tableText(page, '历年实际值与目标'))[0]!.length, 4, 'and no projection column')
    t.same(problems.splice(0), [])
  })
}
