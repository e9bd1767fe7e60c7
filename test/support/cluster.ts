/**
 * A PostgreSQL primary and a streaming hot standby of it, made for one test file in
 * temporary folders on free ports: `initdb` (as the user postgres, since initdb refuses
 * root), `pg_basebackup -R` for the standby, `pg_ctl` to start and stop either. The
 * server on 5432 is never touched. Everything is stopped (`-m immediate`) and removed by
 * `destroy()`, which the caller registers as a teardown, and again when the process exits.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort, pgQuery } from '../faults/harness.ts'

const run = promisify(execFile)
const BIN = '/usr/lib/postgresql/15/bin'
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Why a cluster cannot be made on this machine, or undefined when it can. */
export function clusterUnavailable (): string | undefined {
  if (!existsSync(path.join(BIN, 'initdb'))) return `the PostgreSQL 15 binaries are not in ${BIN}`
  if (process.getuid?.() !== 0) return 'making a cluster runs initdb as the user postgres through runuser, which needs root'
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
  } catch {
    return 'there is no user postgres to run initdb as'
  }
  return undefined
}

const asPostgres = (command: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', path.join(BIN, command), ...args], { timeout: 60_000 })

export interface Server {
  port: number
  dir: string
  url: string
  start: () => Promise<void>
  /** `fast` lets sessions end cleanly; `immediate` is a crash. */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>
  /** One query on a connection of its own. */
  query: <T = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<T[]>
}

export interface Cluster {
  primary: Server
  replica: Server
  /** Stops replaying WAL on the standby (it still receives it), until resumeReplay(). */
  pauseReplay: () => Promise<void>
  resumeReplay: () => Promise<void>
  /** Resolves once the standby has replayed everything the primary has written so far. */
  caughtUp: () => Promise<void>
  destroy: () => Promise<void>
}

function server (dir: string, port: number, log: string): Server {
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    port,
    dir,
    url,
    start: async () => { await asPostgres('pg_ctl', ['-D', dir, '-l', log, '-w', '-t', '30', 'start']) },
    stop: async (mode = 'fast') => { await asPostgres('pg_ctl', ['-D', dir, '-m', mode, '-w', '-t', '30', 'stop']) },
    query: <T>(text: string, values: unknown[] = []) => pgQuery<T>(url, text, values, 5000)
  }
}

async function until (what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

/** Makes, starts and connects a primary and its streaming standby. */
export async function startCluster (): Promise<Cluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ir-cluster-'))
  const { uid, gid } = await run('id', ['-u', 'postgres']).then(async ({ stdout }) => ({ uid: Number(stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) }))
  await chown(root, uid, gid)
  const [primaryPort, replicaPort] = [await freePort(), await freePort()]
  const primary = server(path.join(root, 'primary'), primaryPort, path.join(root, 'primary.log'))
  const replica = server(path.join(root, 'replica'), replicaPort, path.join(root, 'replica.log'))

  let destroyed = false
  const destroy = async () => {
    if (destroyed) return
    destroyed = true
    process.off('exit', onExit)
    for (const s of [replica, primary]) {
      if (existsSync(path.join(s.dir, 'postmaster.pid'))) await s.stop('immediate').catch(() => {})
    }
    await rm(root, { recursive: true, force: true })
  }
  // A test runner's timeout or a crash skips teardowns: stop the servers synchronously then.
  const onExit = () => {
    for (const s of [replica, primary]) {
      try {
        execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, 'pg_ctl'), '-D', s.dir, '-m', 'immediate', 'stop'], { stdio: 'ignore' })
      } catch {}
    }
    try { execFileSync('rm', ['-rf', root]) } catch {}
  }
  process.on('exit', onExit)

  try {
    // No fsync: the folders are thrown away, and it makes initdb and every commit fast.
    await asPostgres('initdb', ['-D', primary.dir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
    // initdb with trust also lets local TCP replication connections in (pg_hba.conf).
    await appendFile(path.join(primary.dir, 'postgresql.conf'), [
      '',
      `port = ${primaryPort}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${root}'`,
      'wal_level = replica',
      'max_wal_senders = 4',
      'wal_keep_size = 256MB',
      'fsync = off',
      'max_connections = 60',
      'shared_buffers = 32MB',
      ''
    ].join('\n'))
    await primary.start()
    await asPostgres('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', replica.dir, '-R', '-X', 'stream', '--no-sync', '-c', 'fast'])
    // The standby's copy of postgresql.conf names the primary's port: the last line wins.
    await appendFile(path.join(replica.dir, 'postgresql.conf'), `\nport = ${replicaPort}\nhot_standby = on\n`)
    await replica.start()
    const cluster: Cluster = {
      primary,
      replica,
      pauseReplay: async () => {
        await replica.query('select pg_wal_replay_pause()')
        await until('replay to pause', async () => (await replica.query<{ s: string }>('select pg_get_wal_replay_pause_state() as s'))[0]?.s !== 'not paused')
      },
      resumeReplay: async () => { await replica.query('select pg_wal_replay_resume()') },
      caughtUp: async () => {
        const [{ lsn }] = await primary.query<{ lsn: string }>('select pg_current_wal_flush_lsn()::text as lsn') as [{ lsn: string }]
        await until('the standby to catch up', async () => (await replica.query<{ ok: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [lsn]))[0]?.ok === true)
      },
      destroy
    }
    await until('the standby to stream', async () => (await primary.query("select 1 from pg_stat_replication where state = 'streaming'")).length > 0)
    return cluster
  } catch (err) {
    await destroy()
    throw err
  }
}
