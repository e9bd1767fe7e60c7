// The read path's limit: a bare Fastify route per read, with no validation, no response
// schema and no hooks, running the SQL the service runs as a named (prepared) `pg`
// statement on a pool of the same size, and logging each request as the service does
// (Fastify's request logging at `info`, one line per request, to the same destination), so
// the comparison measures the service and not the logging. bench/read-path.ts starts it
// beside the real service and drives both with the same load.
//
//   DATABASE_URL=postgres://... PORT=3001 node --import tsx bench/bare.ts
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import { RequestLogController, logDestination } from '../src/logging.ts'
import { serviceStatements } from './lib.ts'

const { series: SERIES_SQL, point: POINT_SQL } = await serviceStatements()
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) })
const destination = logDestination()
const app = Fastify({
  logger: { level: 'info', stream: destination },
  logController: new RequestLogController(),
  requestIdHeader: 'x-request-id',
  genReqId: () => randomUUID()
})

app.get('/v1/values', async (request) => {
  const { region, indicator } = request.query as { region: string, indicator: string }
  const { rows } = await pool.query({ name: 'series', text: SERIES_SQL, values: [region, indicator, 101] })
  return { items: rows, nextCursor: null }
})

app.get('/v1/values/:id', async (request, reply) => {
  const { rows } = await pool.query({ name: 'point', text: POINT_SQL, values: [(request.params as { id: string }).id] })
  if (rows.length === 0) return reply.code(404).send({ status: 404 })
  return rows[0]
})

app.get('/health/ready', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

await app.listen({ port: Number(process.env.PORT ?? 3001), host: '127.0.0.1' })
const stop = () => {
  app.close().then(() => pool.end()).finally(() => destination.flush(() => process.exit(0)))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
