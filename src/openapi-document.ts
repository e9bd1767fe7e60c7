import Fastify from 'fastify'
import { drizzle } from 'drizzle-orm/node-postgres'
import app from './app.ts'
import type { Database, Db } from './db/client.ts'
import { schema } from './db/schema.ts'
import { buildOptions } from './options.ts'

/**
 * Builds the app without a database connection (drizzle's mock driver: routes are
 * registered, none is called) and answers the OpenAPI document it serves.
 */
export async function buildOpenApiDocument (): Promise<unknown> {
  const server = Fastify({ ...buildOptions({ LOG_LEVEL: 'silent', BODY_LIMIT: 1_048_576 }) })
  const offline: Database = {
    db: drizzle.mock({ schema }) as unknown as Db,
    driver: 'pg',
    migrate: async () => {},
    migrationsApplied: async () => false,
    ping: async () => { throw new Error('offline') },
    commitPosition: async () => { throw new Error('offline') },
    close: async () => {}
  }
  await server.register(app, { database: offline })
  await server.ready()
  const document = server.swagger()
  await server.close()
  return document
}
