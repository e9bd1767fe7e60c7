import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { problems } from '../../errors/problem.ts'
import { NOT_MODIFIED } from '../../lib/routes.ts'
import { CodeParams } from '../regions/regions.schemas.ts'
import { parseBreakdownFilter } from '../values/values.schemas.ts'
import type { Breakdown } from '../values/values.schemas.ts'
import { createRollupRepository } from './rollup.repository.ts'
import { Rollup, RollupQuery } from './rollup.schemas.ts'
import { assertRollupAllowed, rollupReport, rules } from './rollup.service.ts'

const rollupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/regions/:code/rollup', {
    config: { cache: 'data' },
    schema: {
      tags: ['monitoring'],
      operationId: 'getRegionRollup',
      summary: 'An indicator rolled up over a region\'s descendants, per year',
      description: [
        'Per year, the indicator derived from the actuals of the regions below this one, with how many of them reported',
        'and the region\'s own reported value beside it. Not paginated: one entry per year.',
        '',
        `- ${rules.values}`,
        `- ${rules.level}`,
        `- ${rules.sum}`,
        `- ${rules.ratio}`,
        `- ${rules.none}`,
        `- ${rules.years}`,
        `- ${rules.own}`,
        '',
        '404 when the region (`REGION_NOT_FOUND`) or the indicator (`INDICATOR_NOT_FOUND`) does not exist; 400 when `from` is after `to`.'
      ].join('\n'),
      params: CodeParams,
      querystring: RollupQuery,
      response: { 200: Rollup, ...NOT_MODIFIED, ...problems(400, 404, 422) }
    }
  }, async (request) => {
    const repo = createRollupRepository(request.readDb)
    const { code } = request.params
    const q = request.query
    const breakdown = parseBreakdownFilter(q.breakdown) as Breakdown
    const subject = await repo.subject(code, q.indicator)
    if (subject.regionLevel === null) throw notFound.region(code)
    if (subject.indicator === null) throw notFound.indicator(q.indicator)
    const input = { region: { code, level: subject.regionLevel }, indicator: subject.indicator, from: q.from, to: q.to, level: q.level, breakdown }
    assertRollupAllowed(input)
    const rows = await repo.rows({ region: code, indicator: q.indicator, from: q.from ?? 1949, to: q.to ?? 2100, breakdown, level: q.level })
    return rollupReport(input, rows)
  })
}

export default rollupRoutes
