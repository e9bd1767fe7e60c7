// The read path's limit (issue #7): a bare Fastify route per read, with no validation,
// no response schema, no logging and no hooks, running the same SQL as the service as a
// named (prepared) `pg` statement on a pool of the same size. bench/read-path.ts starts
// it beside the real service and drives both with the same load.
//
//   DATABASE_URL=postgres://... PORT=3001 node --import tsx bench/bare.ts
import Fastify from 'fastify'
import pg from 'pg'

// The statements the service prepares (src/modules/values/values.repository.ts, shapes
// `values_get` and `values_list_ri_b`), text for text.
const COLUMNS = `"id"::text as "id", "kind", "plan_id", "region_code", "indicator_code", "from_year", "year",
  "category", "grade", "sex", "area", "value"::text as "value", "status", "numerator"::text as "numerator",
  "denominator"::text as "denominator", "as_of"::text as "as_of", "comparator", "binding", "baseline_year",
  "baseline_value"::text as "baseline_value", "qualitative", "source", "note", "revision", "updated_by",
  "created_at"::text as "created_at", "updated_at"::text as "updated_at"`

/** What the service runs for `GET /v1/values?region=&indicator=` (totals, first page). */
export const SERIES_SQL = `select ${COLUMNS} from "yearly_values" where ("yearly_values"."region_code" = $1 and "yearly_values"."indicator_code" = $2 and "yearly_values"."category" is null and "yearly_values"."grade" is null and "yearly_values"."sex" is null and "yearly_values"."area" is null) order by "yearly_values"."year" asc, "yearly_values"."id" asc limit $3`
/** What the service runs for `GET /v1/values/{id}`. */
export const POINT_SQL = `select ${COLUMNS} from "yearly_values" where "yearly_values"."id" = $1`

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) })
const app = Fastify({ logger: false })

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

app.get('/health/ready', async () => ({ status: 'ok' }))

await app.listen({ port: Number(process.env.PORT ?? 3001), host: '127.0.0.1' })
const stop = () => { app.close().then(() => pool.end()).finally(() => process.exit(0)) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
