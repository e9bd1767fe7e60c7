// `npm start`: reads the configuration, builds the Fastify options, opens the database,
// listens, and closes gracefully. The embedded database starts opening first (preopen), and
// the rest of the service is imported while it opens.
import type { Logger } from 'pino'
import { bootDatabase, discard, preopen } from './db/boot.ts'

const preopened = preopen()

async function main () {
  const [{ default: Fastify }, { default: closeWithGrace }, { ConfigError, appOptionsOf, loadConfig }, { buildOptions }, { logDestination }] = await Promise.all([
    import('fastify'), import('close-with-grace'), import('./config.ts'), import('./options.ts'), import('./logging.ts')
  ])
  let config
  try {
    config = loadConfig()
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(err.message)
    await discard(await preopened)
    process.exit(1)
  }

  const destination = logDestination()
  const app = Fastify(buildOptions(config, destination))
  const flush = () => new Promise<void>((resolve) => destination.flush(() => resolve()))

  const service = import('./app.ts')
  service.catch(() => {}) // awaited below; a failure surfaces there
  const database = await bootDatabase(config, app.log as Logger, await preopened)
  const { default: registry } = await service.catch(async (err: unknown) => {
    await database.close()
    throw err
  })
  await app.register(registry, { database, ...appOptionsOf(config) })
  if (config.BOOTSTRAP_ADMIN_TOKEN !== undefined) {
    await app.ready()
    const outcome = await app.tokens.bootstrapAdmin(config.BOOTSTRAP_ADMIN_TOKEN)
    app.log.info({ outcome }, 'bootstrap admin token checked (BOOTSTRAP_ADMIN_TOKEN)')
  }

  // close-with-grace: on a signal or an uncaught error, close the app (draining, then the
  // database) within 10 s, then exit (1 after an error or a timeout). SIGTERM is handled
  // here instead: a supervisor may send it again while the service drains, and that must
  // not cut the drain short (a second SIGINT, from a person, still exits at once).
  let closing = false
  const grace = closeWithGrace({
    delay: 10_000,
    skip: ['SIGTERM'],
    logger: { error: (m: unknown) => app.log.error(m instanceof Error ? { err: m } : {}, m instanceof Error ? 'error while shutting down' : String(m)) }
  }, async ({ signal, err, manual }) => {
    closing = true
    if (err !== undefined) app.log.fatal({ err }, 'uncaught error: shutting down')
    // (Closed by hand only on SIGTERM, below.)
    else app.log.info({ signal: manual === true ? 'SIGTERM' : signal }, 'shutting down: draining requests, then closing the database')
    try {
      await app.close()
    } finally {
      await flush()
    }
  })
  process.on('SIGTERM', (signal) => {
    if (closing) app.log.warn({ signal }, 'second signal while shutting down; still draining')
    else grace.close()
  })

  await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info({ elapsedMs: Math.round(performance.now()) }, 'ready')
  await flush()
}

main().catch((err: unknown) => {
  console.error('failed to start:', err)
  process.exit(1)
})
