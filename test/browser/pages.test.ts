import t, { type Test } from 'tap'
import { apiOf, axeViolations, go, noChromium, openPage, screenshot, startDashboard, tableText, until } from './browser.ts'

// Each page of the dashboard on the seeded data, read against the API's own answers, in
// Chinese and in English, checked by axe-core (WCAG 2.1 A and AA) and photographed
// (test/browser/screenshots/, not committed).
if (!noChromium(t)) {
  const d = await startDashboard(t)
  const api = apiOf(d)
  const { page, problems } = await openPage(d)
  const text = (selector: string) => page.locator(selector).first().innerText()
  const pct = (ratio: string | null) => (ratio === null ? '—' : `${(Number(ratio) * 100).toFixed(1)}%`)
  const regionName = async (code: string, en = false) => {
    const r = await api(`/v1/regions/${code}`)
    return en ? r.nameEn : r.name
  }

  const huangyan = 'huangyan-disability-14th-fyp'
  const STATUS_ZH: Record<string, string> = { achieved: '已达成', 'on-track': '正常推进', 'at-risk': '存在风险', 'off-track': '偏离进度', 'no-data': '无数据', 'not-assessable': '无法评估' }
  const ORDER = ['off-track', 'at-risk', 'no-data', 'on-track', 'achieved', 'not-assessable']

  const checked = async (t: Test, name: string) => {
    t.same(await axeViolations(page), [], `${name}: no axe violations`)
    await screenshot(page, name)
    t.same(problems.splice(0), [], `${name}: no console errors, policy refusals or failed requests`)
  }

  t.test('plans: every plan of GET /v1/plans, and the filters', async (t) => {
    await go(page, '#/plans')
    t.equal(await page.evaluate('document.documentElement.lang'), 'zh-CN', 'Chinese first')
    t.equal(await text('h1'), '查找规划')
    const plans = (await api('/v1/plans')).items
    const rows = await tableText(page, '规划列表')
    t.same(rows.map((r) => r[0]), plans.map((p: { title: string }) => p.title), 'every plan, in the API\'s order')
    t.same(rows.map((r) => r[2]), await Promise.all(plans.map((p: { regionCode: string }) => regionName(p.regionCode))), 'region names')
    await checked(t, 'plans-zh')

    // The form: kind and year, sent with the button.
    await page.selectOption('select[name="kind"]', 'five-year-plan')
    await page.fill('input[name="year"]', '2023')
    const before = await page.evaluate('document.getElementById("main").dataset.ready')
    await page.click('form.filters button[type="submit"]')
    await until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
    t.match(await page.evaluate('location.hash'), /kind=five-year-plan/)
    const filtered = (await api('/v1/plans?kind=five-year-plan&year=2023')).items
    t.ok(filtered.length > 0)
    t.same((await tableText(page, '规划列表')).map((r) => r[0]), filtered.map((p: { title: string }) => p.title), 'the filtered list is the API\'s')
    t.equal(await text('.result-count'), `找到 ${filtered.length} 个规划`)
  })

  t.test('scorecard: every target of GET /v1/plans/{id}/progress, binding and off-track first', async (t) => {
    await go(page, `#/plan/${huangyan}`)
    const [plan, progress] = await Promise.all([api(`/v1/plans/${huangyan}`), api(`/v1/plans/${huangyan}/progress`)])
    t.equal(await text('h1'), plan.title)
    const rows = await tableText(page, '目标（约束性目标在前，偏离进度的在前）')
    t.equal(rows.length, progress.items.length, 'one row per target')
    const expected = [...progress.items].sort((a: any, b: any) =>
      Number(a.binding !== 'binding') - Number(b.binding !== 'binding') || ORDER.indexOf(a.status) - ORDER.indexOf(b.status) ||
      a.indicatorCode.localeCompare(b.indicatorCode) || a.year - b.year || a.targetId - b.targetId)
    // Columns: indicator, region, period, binding, baseline, target, actual, path, attainment, status.
    t.same(rows.map((r) => r[3]), expected.map((i: any) => (i.binding === 'binding' ? '约束性' : '预期性')), 'binding targets first')
    t.same(rows.map((r) => r[9]), expected.map((i: any) => `${{ achieved: '✔', 'on-track': '●', 'at-risk': '▲', 'off-track': '✖', 'no-data': '○', 'not-assessable': '–' }[i.status as string]} ${STATUS_ZH[i.status]}`), 'status as a symbol and a word, in the API\'s terms')
    t.same(rows.map((r) => r[8]), expected.map((i: any) => pct(i.attainment)), 'attainment')
    t.same(rows.map((r) => r[7]), expected.map((i: any) => i.expected ?? '—'), 'the linear path value')
    t.same(rows.map((r) => r[6]!.split(' ')[0]), expected.map((i: any) => i.actual?.value ?? '—'), 'the latest actual')
    const summary = await tableText(page, '各约束类别的目标状态数')
    for (const [n, binding] of ['binding', 'expected'].entries()) {
      t.same(summary[n]!.slice(1), [...ORDER.map((s) => String(progress.summary[binding][s])), String(progress.summary[binding].total)], `summary of ${binding}`)
    }
    t.equal(await page.locator('.chart[role="img"]').count(), 1, 'the summary chart is a labelled image')
    t.match(await page.locator('.chart').first().getAttribute('aria-label'), /下表列出相同数据/, 'pointing to its table')
    await checked(t, 'scorecard-zh')
  })

  t.test('trajectory: actuals, the path from baseline to target, yearly targets', async (t) => {
    const indicator = 'hardship-subsidy-coverage'
    await go(page, `#/trajectory?plan=${huangyan}&region=331003&indicator=${indicator}`)
    const actuals = (await api(`/v1/values?region=331003&indicator=${indicator}&kind=actual`)).items
    const item = (await api(`/v1/plans/${huangyan}/progress`)).items.find((i: any) => i.indicatorCode === indicator && i.regionCode === '331003')
    t.ok(actuals.length > 0 && item.baselineValue !== null, 'the seed has an actual and a baseline to show')
    const rows = await tableText(page, '历年实际值与目标')
    for (const a of actuals) t.equal(rows.find((r) => r[0] === String(a.year))?.[1], a.value, `the ${a.year} actual`)
    t.equal(rows.find((r) => r[0] === String(item.baselineYear))?.[3], `基期 ${item.baselineValue}`, 'the path starts at the baseline')
    t.equal(rows.find((r) => r[0] === String(item.year))?.[3], `目标 ${item.target}`, 'and ends at the target')
    t.equal(rows.find((r) => r[0] === String(item.year))?.[2], `≥ ${item.target}`, 'the target of its year')
    t.match(await text('[data-summary]'), STATUS_ZH[item.status]!)

    // An indicator with several years of actuals (Shengzhou's work summary).
    const shengzhou = 'shengzhou-dpf-2021-work-summary'
    const targets = (await api(`/v1/plans/${shengzhou}/targets?limit=1000`)).items
    const many = (await api('/v1/values?region=330683&kind=actual&limit=1000')).items
    const counts = new Map<string, number>()
    for (const a of many) if (a.fromYear === a.year) counts.set(a.indicatorCode, (counts.get(a.indicatorCode) ?? 0) + 1)
    const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0]
    await go(page, `#/trajectory?plan=${shengzhou}&region=330683&indicator=${busiest}`)
    const years = await tableText(page, '历年实际值与目标')
    for (const a of many.filter((v: any) => v.indicatorCode === busiest)) {
      t.match(years.find((r) => r[0] === String(a.year))?.[1], a.value, `${busiest}: the ${a.year} actual`)
    }
    for (const v of targets.filter((v: any) => v.indicatorCode === busiest && v.regionCode === '330683' && v.value !== null)) {
      t.match(years.find((r) => r[0] === String(v.year))?.[2], v.value, `${busiest}: the ${v.year} target`)
    }
    await checked(t, 'trajectory-zh')
  })

  t.test('regional comparison: the ranking, direction-aware, and the rollup', async (t) => {
    await go(page, '#/compare')
    const form = await page.evaluate('Object.fromEntries(new FormData(document.querySelector(\'form.filters\')))') as Record<string, string>
    t.ok(form.indicator && form.year && form.within, 'a starting point is chosen from the data')
    await go(page, `#/compare?indicator=${form.indicator}&year=${form.year}&within=${form.within}&level=${form.level}`)
    const ranking = (await api(`/v1/indicators/${form.indicator}/ranking?year=${form.year}&within=${form.within}&level=${form.level}&limit=1000`)).items
    const ranked = ranking.filter((r: any) => r.rank !== null)
    t.ok(ranked.length > 0)
    const rows = await tableText(page, '排名')
    t.same(rows.map((r) => [r[0], r[1], r[2]]), ranked.map((r: any) => [String(r.rank), r.regionName, r.value]), 'the ranked regions, best first')
    t.match(await page.locator('details.unranked summary').innerText(), String(ranking.length - ranked.length), 'the regions without an actual are counted')
    const indicator = await api(`/v1/indicators/${form.indicator}`)
    t.equal(await text('.direction'), indicator.direction === 'decrease' ? '数值越低越好：从低到高排名。' : '数值越高越好：从高到低排名。')
    const rollup = await api(`/v1/regions/${form.within}/rollup?indicator=${form.indicator}&from=${form.year}&to=${form.year}&level=${form.level}`)
    const year = rollup.years[0]
    const withinName = await regionName(form.within!)
    t.same((await tableText(page, `${withinName}：本级上报值与下级汇总值`))[0], [String(year.year), year.own ?? '—', year.value ?? '—', `${year.reportedCount} / ${year.regionCount}`, year.difference ?? '—'], 'reported against derived')
    await checked(t, 'comparison-zh')

    // A decrease indicator ranks lowest first, as the API does.
    const decrease = (await api('/v1/indicators?limit=1000')).items.find((i: any) => i.direction === 'decrease')
    if (decrease !== undefined) {
      await go(page, `#/compare?indicator=${decrease.code}&year=${form.year}&within=${form.within}&level=${form.level}`)
      t.equal(await text('.direction'), '数值越低越好：从低到高排名。', `${decrease.code} is a decrease indicator`)
    }
  })

  t.test('data completeness: which regions reported which years', async (t) => {
    await go(page, '#/completeness?within=330000')
    const actuals = (await api('/v1/values?region=330000&includeDescendants=true&kind=actual&limit=1000')).items
    const targets = (await api('/v1/values?region=330000&includeDescendants=true&kind=target&limit=1000')).items
    const rows = await tableText(page, '各地区各年报告的指标数')
    const years = [...new Set<number>(actuals.map((a: any) => a.year as number))].sort()
    const first = years[0] as number
    const codes = [...new Set([...actuals, ...targets].map((v: any) => v.regionCode as string))].sort()
    t.same(rows.map((r) => r[0]!.match(/\((\d+)\)$/)?.[1]), codes, 'every region with values, by code')
    for (const row of rows) {
      const code = row[0]!.match(/\((\d+)\)$/)![1]
      for (let y = first; y <= Math.max(...years); y++) {
        const n = new Set(actuals.filter((a: any) => a.regionCode === code && a.year === y).map((a: any) => a.indicatorCode)).size
        t.equal(row[1 + y - first], n === 0 ? '—无' : String(n), `${code} ${y}`)
      }
    }
    await checked(t, 'completeness-zh')
  })

  t.test('English: the switch, remembered, in <html lang>, with English names', async (t) => {
    await go(page, `#/plan/${huangyan}`)
    const before = await page.evaluate('document.getElementById("main").dataset.ready')
    await page.click('#lang-switch')
    await until(page, `document.getElementById('main').dataset.ready !== ${JSON.stringify(before)} && !document.getElementById('main').hasAttribute('aria-busy')`)
    t.equal(await page.evaluate('document.documentElement.lang'), 'en')
    const plan = await api(`/v1/plans/${huangyan}`)
    t.equal(await text('h1'), plan.titleEn)
    t.match(await text('.facts'), 'Huangyan District', 'the region\'s English name')
    t.equal(await text('#lang-switch'), '中文')
    t.equal(await page.locator('#lang-switch').getAttribute('lang'), 'zh-CN', 'the switch names its language in that language')
    t.ok(await tableText(page, 'Targets (binding first, off-track first)'), 'the tables in English')
    await checked(t, 'scorecard-en')

    await page.reload()
    await until(page, 'document.getElementById(\'main\').dataset.ready && !document.getElementById(\'main\').hasAttribute(\'aria-busy\')')
    t.equal(await page.evaluate('document.documentElement.lang'), 'en', 'remembered after a reload')
    for (const [name, hash] of [['plans-en', '#/plans'], ['trajectory-en', `#/trajectory?plan=${huangyan}&region=331003&indicator=hardship-subsidy-coverage`], ['comparison-en', '#/compare'], ['completeness-en', '#/completeness?within=330000']] as const) {
      await go(page, hash)
      t.notMatch(`${await text('h1')} ${await text('#site-nav')} ${await text('form.filters')}`, /[\u4e00-\u9fff]/, `${name}: heading, navigation and form in English`)
      await checked(t, name)
    }
    t.same((await tableText(page, 'Indicators reported per region and year')).map((r) => r[0]).find((r) => r?.startsWith('Huangyan')), 'Huangyan District (331003)')
  })

  t.test('200% zoom: half the width, nothing lost, no sideways scrolling of the page', async (t) => {
    // 200% zoom of a 1280 px window lays the page out in 640 CSS pixels.
    const zoomed = await openPage(d, '', { width: 640, height: 800 })
    for (const [name, hash] of [['plans-zoom', '#/plans'], ['scorecard-zoom', `#/plan/${huangyan}`], ['trajectory-zoom', `#/trajectory?plan=${huangyan}&region=331003&indicator=hardship-subsidy-coverage`], ['comparison-zoom', '#/compare'], ['completeness-zoom', '#/completeness?within=330000']] as const) {
      await go(zoomed.page, hash)
      const overflow = await zoomed.page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
      t.ok(overflow <= 0, `${name}: the page is no wider than the window (${overflow} px over)`)
      t.same(await axeViolations(zoomed.page), [], `${name}: no axe violations`)
      await screenshot(zoomed.page, name)
    }
    t.same(zoomed.problems, [], 'no console errors')
  })
}
