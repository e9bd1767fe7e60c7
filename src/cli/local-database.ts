import { readdir, readlink, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import pino from 'pino'
import { ConfigError, loadConfig, type Config } from '../config.ts'
import { openDatabase, type Database } from '../db/client.ts'
import { CliError, EXIT } from './exit-codes.ts'

/**
 * True when another process has the embedded database open. PGlite serves one process
 * only: a second one writing the same folder would corrupt it. PGlite leaves a
 * postmaster.pid while open (also after a crash); on Linux /proc tells the two apart.
 */
async function embeddedInUse (dataDir: string): Promise<boolean> {
  const dir = path.resolve(dataDir)
  if (!await stat(path.join(dir, 'postmaster.pid')).then(() => true, () => false)) return false
  if (process.platform !== 'linux') return true
  const real = await realpath(dir)
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^[0-9]+$/.test(pid) || Number(pid) === process.pid) continue
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
      if (target === real || target.startsWith(real + path.sep)) return true
    }
  }
  return false // a stale postmaster.pid from a crash: PGlite recovers on open
}

/**
 * Opens the service's database directly, as the server would (DATABASE_URL, else the
 * embedded database in DATA_DIR), with migrations applied: for bootstrapping a fresh
 * install before anyone holds a token.
 */
export async function openLocalDatabase (): Promise<{ database: Database, config: Config }> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(EXIT.USAGE, err.message)
    throw err
  }
  if (config.DATABASE_URL === undefined && await embeddedInUse(config.DATA_DIR)) {
    throw new CliError(EXIT.USAGE, [
      `the embedded database in ${path.resolve(config.DATA_DIR)} is open in another process (the server?).`,
      'It serves one process at a time: stop the server and run this again, or create the token through',
      'the API with an admin token (indicator-registry token create --role ... --token <admin token>).'
    ].join('\n'))
  }
  const logger = pino({ level: 'silent' })
  let database: Database | undefined
  try {
    database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, poolMax: 1, logger })
    await database.migrate()
  } catch (err) {
    await database?.close().catch(() => {})
    throw new CliError(EXIT.UNAVAILABLE, `cannot open the database (${config.DATABASE_URL !== undefined ? 'DATABASE_URL' : `embedded, in ${config.DATA_DIR}`}): ${(err as Error).message}`)
  }
  return { database, config }
}
