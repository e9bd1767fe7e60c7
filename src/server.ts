// `npm start`: reads the configuration, builds the Fastify options, opens the database,
// listens, and closes gracefully. The embedded database starts opening first (preopen), and
// the rest of the service is imported while it opens.
import type { Logger } from 'pino'
import { discard, preopen } from './db/boot.ts'

const preopened = preopen()

async function main () {
  const [{ default: Fastify }, { default: closeWithGrace }, { default: pino }, { ConfigError, appOptionsOf, loadConfig }, { buildOptions }, { bootDatabase }] = await Promise.all([
    import('fastify'), import('close-with-grace'), import('pino'), import('./config.ts'), import('./options.ts'), import('./db/boot.ts')
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

  // Log lines go to stdout through pino's asynchronous destination: written in blocks of
  // about 4 KB off the request path, and at the latest after a second. What is held is
  // written before the process exits: flushed below on every shutdown, and by pino's own
  // exit handler otherwise.
  const destination = pino.destination({ sync: false, minLength: 4096, periodicFlush: 1000 })
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
  const grace = closeWithGrace({
    delay: 10_000,
    skip: ['SIGTERM'],
    logger: { error: (m: unknown) => app.log.error(m instanceof Error ? { err: m } : {}, m instanceof Error ? 'error while shutting down' : String(m)) }
  }, async ({ signal, err }) => {
    if (err !== undefined) app.log.fatal({ err }, 'uncaught error: shutting down')
    else if (signal !== undefined) app.log.info({ signal }, 'shutting down: draining requests, then closing the database')
    try {
      await app.close()
    } finally {
      await flush()
    }
  })
  let terminating = false
  process.on('SIGTERM', (signal) => {
    if (terminating) {
      app.log.warn({ signal }, 'second signal while shutting down; still draining')
      return
    }
    terminating = true
    app.log.info({ signal }, 'shutting down: draining requests, then closing the database')
    grace.close()
  })

  await app.listen({ port: config.PORT, host: config.HOST })
  app.log.info({ elapsedMs: Math.round(performance.now()) }, 'ready')
  await flush()
}

main().catch((err: unknown) => {
  console.error('failed to start:', err)
  process.exit(1)
})
