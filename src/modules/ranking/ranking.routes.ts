import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { decodeCursor, invalidCursor } from '../../lib/pagination.ts'
import { problems } from '../../errors/problem.ts'
import { NOT_MODIFIED } from '../../lib/routes.ts'
import { NATIONAL_ROOT } from '../regions/regions.rules.ts'
import { assertLevelBelow } from '../rollup/rollup.service.ts'
import { createSubjectLookup } from '../rollup/rollup.repository.ts'
import { createRankingRepository, type RankingCursor } from './ranking.repository.ts'
import { RankingPage, RankingParams, RankingQuery } from './ranking.schemas.ts'
import { rankingPage, rules } from './ranking.service.ts'

const DECIMAL = /^-?[0-9]+(\.[0-9]+)?$/

const rankingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/indicators/:code/ranking', {
    config: { cache: 'data' },
    schema: {
      tags: ['monitoring'],
      operationId: 'getIndicatorRanking',
      summary: 'Rank regions by an indicator in one year',
      description: [
        ...rules.map((r) => `- ${r}`),
        '',
        '404 when the indicator (`INDICATOR_NOT_FOUND`) or `within` (`REGION_NOT_FOUND`) does not exist; 422 when `level` does not lie below `within`.'
      ].join('\n'),
      params: RankingParams,
      querystring: RankingQuery,
      response: { 200: RankingPage, ...NOT_MODIFIED, ...problems(400, 404, 422) }
    }
  }, async (request) => {
    const { year, level = 'county', within = NATIONAL_ROOT, limit = 100, cursor } = request.query
    const after = decodeCursor(cursor, ['number', 'string', 'string']) as RankingCursor | undefined
    if (after !== undefined && ((after[0] !== 0 && after[0] !== 1) || !DECIMAL.test(after[1]))) throw invalidCursor()
    const found = await createSubjectLookup(request.readDb)(within, request.params.code)
    if (found.indicator === null) throw notFound.indicator(request.params.code)
    if (found.regionLevel === null) throw notFound.region(within)
    assertLevelBelow({ code: within, level: found.regionLevel }, level, 'level')
    const rows = await createRankingRepository(request.readDb).page({ within, indicator: found.indicator.code, level, direction: found.indicator.direction, year, after, limit })
    return rankingPage(rows, limit)
  })
}

export default rankingRoutes
