import fp from 'fastify-plugin'
import type { Database, Db } from '../db/client.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** The database handle (drizzle over pg or PGlite); repositories are built on it. */
    db: Db
    database: Database
  }
}

/**
 * Decorates the app with an opened database. The caller owns opening it (server.ts or
 * the test helper); the plugin closes it when the app closes.
 */
export default fp<{ database: Database }>(async (app, opts) => {
  app.decorate('database', opts.database)
  app.decorate('db', opts.database.db)
  app.addHook('onClose', async () => {
    await opts.database.close()
  })
}, { name: 'database' })
