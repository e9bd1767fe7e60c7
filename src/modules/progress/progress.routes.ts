import { notFound } from '../../errors/catalogue.ts'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { problems } from '../../errors/problem.ts'
import { NOT_MODIFIED } from '../../lib/routes.ts'
import { PlanParams } from '../plans/plans.schemas.ts'
import { createProgressRepository } from './progress.repository.ts'
import { Progress, ProgressQuery } from './progress.schemas.ts'
import { method, progressReport } from './progress.service.ts'
import { GROWTH_RATIO, PROJECTION } from './progress.trends.ts'

const chinaYear = new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' })

/** The default `asOf`: the calendar year now in China (UTC+8), where the plans run. */
export function currentYear (now = new Date()): number {
  return Number(chinaYear.format(now))
}

/** Without `asOf` the report is as of this year: the same URL answers differently next year. */
const defaultAsOf = (request: FastifyRequest) => ((request.query as { asOf?: number }).asOf === undefined ? String(currentYear()) : '')

const progressRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/plans/:id/progress', {
    config: { cache: { depends: defaultAsOf } },
    schema: {
      tags: ['monitoring'],
      operationId: 'getPlanProgress',
      summary: 'Progress of every target of a plan',
      description: [
        'For each target of the plan: the actual it is compared with, `attainment`, the `expected` trajectory value and a',
        '`status`; and a `summary` per binding class. `asOf` defaults to the current calendar year (China Standard Time).',
        'Not paginated: it is one report over the plan\'s target table (at most 5,000 targets), and the summary covers them all.',
        'The same rules are stated in every answer\'s `method`.',
        '',
        `**Methods.** ${method.methods}`,
        '',
        `**Actual.** ${method.actual}`,
        '',
        `**Cumulative flow targets.** ${method.cumulative}`,
        '',
        `**Baseline.** ${method.baseline}`,
        '',
        `**Attainment.** ${method.attainment}`,
        '',
        `**Expected.** ${method.expected}`,
        '',
        `**Status.** ${method.status}`,
        '',
        `**Summary.** ${method.summary}`,
        '',
        `**Rounding.** ${method.rounding}`,
        '',
        `**projection** (${PROJECTION.source}). ${PROJECTION.text}`,
        '',
        `**growth-ratio** (${GROWTH_RATIO.source}). ${GROWTH_RATIO.text}`
      ].join('\n'),
      params: PlanParams,
      querystring: ProgressQuery,
      response: { 200: Progress, ...NOT_MODIFIED, ...problems(400, 404) }
    }
  }, async (request) => {
    const asOf = request.query.asOf ?? currentYear()
    const found = await createProgressRepository(request.readDb).targetsWithActuals(request.params.id, asOf)
    if (found === undefined) throw notFound.plan(request.params.id)
    return progressReport(request.params.id, found.plan, asOf, found.targets, request.query.method ?? 'linear')
  })
}

export default progressRoutes
