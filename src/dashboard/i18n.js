// The page's words in Chinese (first) and English. Data (plan titles, region and indicator
// names) comes from the API in both languages; these are only the page's own words.
const STORAGE_KEY = 'indicator-registry.lang'
const HTML_LANG = { zh: 'zh-CN', en: 'en' }

const WORDS = {
  'app.title': ['残疾人事业规划监测', 'Disability-services plan monitoring'],
  skip: ['跳到主要内容', 'Skip to main content'],
  'nav.label': ['主导航', 'Main'],
  'nav.plans': ['规划', 'Plans'],
  'nav.trajectory': ['指标轨迹', 'Trajectory'],
  'nav.compare': ['地区比较', 'Regional comparison'],
  'nav.completeness': ['数据完整性', 'Data completeness'],
  'nav.api': ['接口文档', 'API docs'],
  'lang.other': ['English', '中文'],
  'lang.switched': ['已切换为中文', 'Switched to English'],
  footer: ['数据来自本服务的公开接口（/v1），页面只读取这些接口。', 'All figures come from this service\'s public API (/v1); the page only reads it.'],
  loading: ['正在加载…', 'Loading…'],
  loaded: ['已加载：{title}', 'Loaded: {title}'],
  error: ['无法加载数据：{detail}', 'Could not load the data: {detail}'],
  notFound: ['没有这个页面。', 'There is no such page.'],
  all: ['全部', 'All'],
  show: ['查看', 'Show'],
  none: ['无', 'none'],
  yes: ['是', 'yes'],
  chartNote: ['图表；下表列出相同数据。', 'Chart; the table below lists the same figures.'],

  'plans.title': ['查找规划', 'Find a plan'],
  'plans.intro': ['按地区、类型和年份查找规划文件，打开其目标完成情况。', 'Find a planning document by region, kind and year, and open its scorecard.'],
  'plans.region': ['地区', 'Region'],
  'plans.kind': ['类型', 'Kind'],
  'plans.year': ['年份（在该年有效）', 'Year (in force that year)'],
  'plans.found': ['找到 {n} 个规划', '{n} plans found'],
  'plans.caption': ['规划列表', 'Plans'],
  'col.title': ['标题', 'Title'],
  'col.kind': ['类型', 'Kind'],
  'col.region': ['地区', 'Region'],
  'col.period': ['期间', 'Period'],
  'col.planStatus': ['文件状态', 'Document status'],

  'score.title': ['目标完成情况', 'Scorecard'],
  'score.asOf': ['评估年份', 'Assessed as of year'],
  'score.sum': ['累计', 'Sum'],
  'score.elapsed': ['期间已过 {pct}（{years}/{of} 年）', '{pct} of the period elapsed ({years} of {of} years)'],
  'method.legend': ['评估方法', 'Progress method'],
  'method.hint': ['用方向键选择方法，表格随即按该方法更新；方法记在网址中。', 'Choose a method with the arrow keys; the tables update at once, and the link remembers the method.'],
  'method.heading': ['评估方法：{method}', 'Method: {method}'],
  'method.linear': ['线性路径', 'Linear path'],
  'method.projection': ['趋势预测', 'Projection'],
  'method.growth-ratio': ['增长率比', 'Growth ratio'],
  'method.name': ['方法', 'Method'],
  'method.what': ['衡量什么', 'What it measures'],
  'method.linear.what': ['实际值是否达到从基期值到目标值的直线路径在该年的值（接口默认方法）。', 'Whether the actual reaches the straight path from baseline to target in its year (the API\'s default).'],
  'method.projection.what': ['按最近几年实际值的年均变化推算到目标年份，看能否达到目标（德国联邦统计局“天气”评级）。', 'Whether the target will be met if the average annual change of the recent actuals carries on to the target\'s year (the Destatis "weather" rating).'],
  'method.growth-ratio.what': ['实际年均增长与达到目标所需年均增长之比（欧盟统计局 / Open SDG）。', 'The ratio of the observed to the required annual growth (Eurostat / Open SDG).'],
  'method.linear.thresholds': ['达到路径值：正常推进；自基期以来的进展至少为路径进展的 {share}：存在风险；否则偏离进度。', 'At or beyond the path: on track; progress since the baseline at least {share} of the path\'s: at risk; otherwise off track.'],
  'method.threshold.onTrackBelow': ['预测值与目标的差距小于剩余差距的 {pct}：正常推进', 'The projection misses by less than {pct} of the remaining gap: on track'],
  'method.threshold.atRiskUpTo': ['差距在 {pct} 以内：存在风险；超过 {pct}：偏离进度', 'Misses by up to {pct}: at risk; by more than {pct}: off track'],
  'method.threshold.onTrackFrom': ['增长率比不低于 {value}：正常推进', 'Growth ratio at least {value}: on track'],
  'method.threshold.atRiskFrom': ['不低于 {value}：存在风险；0 至 {value}：偏离进度（不足）', 'At least {value}: at risk; 0 to {value}: off track (insufficient)'],
  'method.projection.wrongWay': ['趋势背离目标：偏离进度。少于两个实际值：无法评估。', 'A trend moving away from the target: off track. Fewer than two actuals: not assessable.'],
  'method.growth-ratio.wrongWay': ['比值小于 0（背离目标）：偏离进度。没有早于最新实际值的基期：无法评估。', 'A ratio below 0 (moving away): off track. No base before the latest actual: not assessable.'],
  'method.thresholds': ['判定阈值', 'Thresholds'],
  'method.points': ['所用实际值', 'Actuals used'],
  'method.pointsRange': ['最近的实际值，至少 {min} 个，至多 {max} 个', 'The latest actuals, at least {min}, at most {max}'],
  'method.pointCount': ['{n} 个', '{n}'],
  'method.formula': ['公式（接口原文）', 'Formula (as the API states it)'],
  'method.source': ['来源', 'Source'],
  'method.cumulative': ['流量指标的多年目标', 'Multi-year targets of flows'],
  'col.projected': ['目标年预测值', 'Projected for the target year'],
  'col.averageChange': ['年均变化', 'Average annual change'],
  'col.points': ['所用实际值（年份：数值）', 'Actuals used (year: value)'],
  'col.growthBase': ['增长基期', 'Growth base'],
  'col.observedGrowth': ['实际年均增长', 'Observed annual growth'],
  'col.requiredGrowth': ['所需年均增长', 'Required annual growth'],
  'col.growthRatio': ['增长率比', 'Growth ratio'],
  'score.methodDetails': ['接口给出的计算规则', 'The rules as the API states them'],
  'score.summary': ['按约束类别汇总', 'Summary by binding class'],
  'score.summaryCaption': ['各约束类别的目标状态数', 'Targets per status in each binding class'],
  'score.targets': ['全部目标', 'Every target'],
  'score.targetsCaption': ['目标（约束性目标在前，偏离进度的在前）', 'Targets (binding first, off-track first)'],
  'score.total': ['合计', 'Total'],
  'score.trajectory': ['轨迹', 'trajectory'],
  'col.indicator': ['指标', 'Indicator'],
  'col.binding': ['约束类别', 'Binding class'],
  'col.baseline': ['基期值', 'Baseline'],
  'col.target': ['目标值', 'Target'],
  'col.actual': ['最新实际值或期内累计', 'Latest actual, or sum so far'],
  'col.expected': ['线性路径值', 'Path value'],
  'col.attainment': ['完成度', 'Attainment'],
  'col.status': ['状态', 'Status'],
  'col.reason': ['说明（接口原文）', 'Reason (as the API states it)'],
  'col.year': ['年份', 'Year'],
  provisional: ['初步数', 'provisional'],

  'traj.title': ['指标轨迹', 'Indicator trajectory'],
  'traj.intro': ['某地区某指标的历年实际值、从基期值到目标值的路径、年度目标，以及按近期速度推算的预测值。', 'A region\'s actuals for one indicator over the years, the path from baseline to target, the yearly targets, and the projection at the recent pace.'],
  'traj.plan': ['规划', 'Plan'],
  'traj.series.actual': ['实际值', 'Actual'],
  'traj.series.path': ['基期值至目标值路径', 'Path from baseline to target'],
  'traj.series.target': ['年度目标', 'Yearly target'],
  'traj.caption': ['历年实际值与目标', 'Actuals and targets by year'],
  'traj.pathCaption': ['路径的起点和终点', 'The path\'s start and end'],
  'traj.pathStart': ['基期', 'Baseline'],
  'traj.pathEnd': ['目标', 'Target'],
  'traj.noPath': ['该目标没有基期值，无法画出路径。', 'This target has no baseline value, so there is no path to draw.'],
  'traj.noActual': ['尚无实际值。', 'No actual reported yet.'],
  'traj.summary': ['最新实际值：{actual}（{year}）。状态（{method}）：', 'Latest actual: {actual} ({year}). Status ({method}): '],
  'traj.summarySum': ['期内累计：{actual}（{year}）。状态（{method}）：', 'Sum so far: {actual} ({year}). Status ({method}): '],
  'traj.status': ['状态（{method}）：', 'Status ({method}): '],
  'traj.series.projection': ['趋势预测', 'Projection'],
  'traj.series.sum': ['期内累计', 'Sum so far'],
  'traj.projected': ['预测', 'Projected'],
  'traj.projectedFrom': ['起点', 'From'],
  'traj.projection': ['趋势预测：{from}–{to}年 {n} 个实际值的年均变化为 {change}，照此推算 {year}年为 {projected}（目标 {target}）。', 'Projection: the {n} actuals of {from}–{to} change by {change} a year on average; at that pace {year} reaches {projected} (target {target}).'],
  'traj.projectionFlow': ['趋势预测：{from}–{to}年 {n} 个年度实际值平均每年 {change}，照此推算期末累计为 {projected}（{year}年，目标 {target}）。', 'Projection: the {n} yearly actuals of {from}–{to} average {change} a year; at that pace the sum reaches {projected} by {year} (target {target}).'],
  'traj.projectionUnavailable': ['趋势预测需要至少两个实际值，现有 {n} 个。', 'A projection needs at least two actuals; {n} known.'],
  'traj.projectionNone': ['不作趋势预测：目标已达成、没有期内实际值或没有数值目标。', 'No projection: the target is achieved, has no actual inside the plan\'s period, or has no number.'],
  'traj.choose': ['请选择规划、地区和指标。', 'Choose a plan, a region and an indicator.'],
  'traj.period': ['{from}–{to}年累计', '{from}–{to} total'],

  'cmp.title': ['地区比较', 'Regional comparison'],
  'cmp.intro': ['下级地区按某指标某年的实际值排名（按指标方向），并与汇总推算值对照。', 'Regions below one region ranked by an indicator\'s actual in a year (by the indicator\'s direction), against the figures derived by rollup.'],
  'cmp.within': ['上级地区', 'Within region'],
  'cmp.level': ['排名层级', 'Level ranked'],
  'cmp.higher': ['数值越高越好：从高到低排名。', 'Higher is better: ranked from highest.'],
  'cmp.lower': ['数值越低越好：从低到高排名。', 'Lower is better: ranked from lowest.'],
  'cmp.caption': ['排名', 'Ranking'],
  'cmp.rank': ['名次', 'Rank'],
  'cmp.value': ['实际值', 'Actual'],
  'cmp.unranked': ['{n} 个地区当年没有实际值：', '{n} regions reported no actual that year:'],
  'cmp.noneRanked': ['当年没有地区报告实际值。', 'No region reported an actual that year.'],
  'cmp.rollup': ['上报数与汇总推算数', 'Reported and derived figures'],
  'cmp.rollupCaption': ['{region}：本级上报值与下级汇总值', '{region}: its own reported figure against the figure derived from the regions below'],
  'cmp.derived': ['下级汇总值', 'Derived from regions below'],
  'cmp.reported': ['下级报告数', 'Regions reporting'],
  'cmp.own': ['本级上报值', 'Own reported figure'],
  'cmp.difference': ['差额（上报−汇总）', 'Difference (reported − derived)'],
  'cmp.notAggregable': ['该指标不能跨地区汇总（例如增长率），只能排名。', 'This indicator cannot be rolled up over regions (e.g. a growth rate); it is only ranked.'],
  'cmp.choose': ['请选择指标和年份。', 'Choose an indicator and a year.'],

  'comp.title': ['数据完整性', 'Data completeness'],
  'comp.intro': ['各地区在哪些年份报告了实际值（单元格为报告的指标数）。有目标而无实际值的地区也列出。', 'Which regions reported actuals in which years (each cell counts the indicators reported). Regions with targets but no actuals are listed too.'],
  'comp.caption': ['各地区各年报告的指标数', 'Indicators reported per region and year'],
  'comp.years': ['报告年数', 'Years reported'],
  'comp.targetsOnly': ['只有目标，没有实际值', 'targets only, no actuals'],
  'comp.empty': ['该地区及其下级没有任何数据。', 'No values for this region or any region below it.'],

  'status.achieved': ['已达成', 'Achieved'],
  'status.on-track': ['正常推进', 'On track'],
  'status.at-risk': ['存在风险', 'At risk'],
  'status.off-track': ['偏离进度', 'Off track'],
  'status.no-data': ['无数据', 'No data'],
  'status.not-assessable': ['无法评估', 'Not assessable'],
  'binding.binding': ['约束性', 'Binding'],
  'binding.expected': ['预期性', 'Expected'],
  'kind.five-year-plan': ['五年规划', 'Five-year plan'],
  'kind.annual-work-plan': ['年度工作要点', 'Annual work plan'],
  'kind.work-summary': ['工作总结', 'Work summary'],
  'kind.special-action-plan': ['专项行动方案', 'Special action plan'],
  'planStatus.draft': ['草案', 'Draft'],
  'planStatus.in-force': ['施行中', 'In force'],
  'planStatus.expired': ['已到期', 'Expired'],
  'planStatus.superseded': ['已被替代', 'Superseded'],
  'level.national': ['全国', 'National'],
  'level.province': ['省级', 'Province'],
  'level.prefecture': ['地市级', 'Prefecture'],
  'level.county': ['县级', 'County'],
  'level.township': ['乡镇街道', 'Township'],
  'unit.percent': ['%', '%'],
  'unit.persons': ['人', 'persons'],
  'unit.person-times': ['人次', 'person-times'],
  'unit.households': ['户', 'households'],
  'unit.institutions': ['个机构', 'institutions'],
  'unit.sites': ['个', 'sites'],
  'unit.items': ['项', 'items'],
  'unit.events': ['次', 'events'],
  'unit.beds': ['张床位', 'beds'],
  'unit.vehicles': ['辆', 'vehicles'],
  'unit.cny-10k': ['万元', 'CNY 10,000'],
  'unit.cny': ['元', 'CNY'],
  'valueStatus.provisional': ['初步数', 'provisional'],
  'valueStatus.final': ['正式数', 'final'],
  'valueStatus.estimated': ['估计数', 'estimated']
}

let current = 'zh'

/** The language chosen before (remembered in this browser), Chinese otherwise. */
export function initLang () {
  let saved = null
  try { saved = localStorage.getItem(STORAGE_KEY) } catch { /* storage may be off */ }
  current = saved === 'en' ? 'en' : 'zh'
  document.documentElement.lang = HTML_LANG[current]
}

export function setLang (lang) {
  current = lang === 'en' ? 'en' : 'zh'
  try { localStorage.setItem(STORAGE_KEY, current) } catch { /* not remembered, still switched */ }
  document.documentElement.lang = HTML_LANG[current]
}

export const lang = () => current
export const otherLang = () => (current === 'zh' ? 'en' : 'zh')
export const htmlLang = (l = current) => HTML_LANG[l]

/** The page's word for `key`, with {placeholders} filled from `vars`. */
export function t (key, vars = {}) {
  const pair = WORDS[key]
  const text = pair === undefined ? key : pair[current === 'zh' ? 0 : 1]
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''))
}

/** A record's name in the current language: `nameEn`/`titleEn` in English when it has one. */
export function nameOf (record) {
  if (record === undefined || record === null) return ''
  const zh = record.name ?? record.title ?? record.code ?? ''
  if (current === 'zh') return zh
  return record.nameEn ?? record.titleEn ?? zh
}
