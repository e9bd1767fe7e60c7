import { drizzle } from 'drizzle-orm/node-postgres'
import type pg from 'pg'
import type { Logger } from 'pino'
import type { Db } from './client.ts'
import { ReplicaPool } from './replica-pool.ts'
import { schema } from './schema.ts'
import { formatLsn, parseLsn } from './wal-position.ts'

/**
 * Which database server answers a read: a streaming replica that is up, close enough to
 * the primary and has replayed the client's last write, else the primary. A monitor checks
 * every replica at an interval and keeps what it found; choosing costs no query.
 */

export interface ReplicaOptions {
  /** Connection strings of the replicas (DATABASE_READ_URL), named replica-1, replica-2, ... in this order. */
  urls: string[]
  /** Connections per replica pool. */
  poolMax: number
  /** A replica further behind the primary than this is skipped. */
  maxLagMs: number
  /** A replica more WAL bytes behind than this is skipped; 0: no bound on bytes. */
  maxLagBytes: number
  /** How often each replica (and the primary's WAL position) is checked. */
  checkIntervalMs: number
}

/**
 * `usable`: reads go to it. `unchecked`: not checked yet. `down`: it did not answer its
 * last check, or a read failed on it since. `lagging`: behind by more than the bounds.
 * `not-a-standby`: it answers but is not in recovery (promoted, or not a replica at all),
 * so it may hold writes the primary never had, or lack the primary's.
 */
export type ReplicaStatus = 'usable' | 'unchecked' | 'down' | 'lagging' | 'not-a-standby'

export interface ReplicaState {
  name: string
  status: ReplicaStatus
  /** Answered its last check. */
  up: boolean
  usable: boolean
  /** pg_last_wal_replay_lsn() at the last check. */
  replayPosition: string | null
  /** WAL bytes the primary had flushed and the replica had not replayed, at the last check. */
  lagBytes: number | null
  /** Time since the primary first held WAL that the replica had not replayed at the last check (0 when caught up). */
  lagSeconds: number | null
  /** Commit time of the last transaction the replica replayed (pg_last_xact_replay_timestamp()). */
  lastReplayedAt: string | null
  checkedAt: string | null
}

/** The server chosen for one request's reads. */
export interface ReadChoice {
  db: Db
  /** `primary` or the replica's name. */
  server: string
  /** Who answered: `primary` once the chosen replica failed while the request ran. */
  answeredBy: () => string
}

export interface ReadRouter {
  /** A usable replica that has replayed `position` and the floor (round robin), else the primary. */
  choose: (position: bigint | undefined) => ReadChoice
  /**
   * A position every read needs, whatever the client sends: the primary's after this
   * process applied the migrations, so no replica answers before it has the schema the
   * code expects (a new column read from a replica that has not replayed it is an error).
   */
  setFloor: (position: bigint) => void
  states: () => ReplicaState[]
  /** Requests routed to each server, and reads retried on the primary per replica, since start. */
  counts: () => { reads: Record<string, number>, fallbacks: Record<string, number> }
  close: () => Promise<void>
}

interface Replica {
  name: string
  pool: ReplicaPool
  db: Db
  state: ReplicaState
  replay: bigint | undefined
  /** Reads of this replica retried on the primary: a choice made before it grew fell back. */
  failures: number
}

/** A check that takes longer than this counts as failed: the server is away or frozen. */
const CHECK_TIMEOUT_MS = 2000
/** Primary positions kept for measuring lag in time: at one per interval, minutes of steady writing. */
const MAX_SAMPLES = 1000

const REPLICA_CHECK = 'select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replay, pg_last_xact_replay_timestamp() as replayed_at'

/** The part of a connection string a log line may show: no user, no password. */
export function describeUrl (url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`
}

export function createReadRouter (primary: { pool: pg.Pool, db: Db }, options: ReplicaOptions, logger: Logger): ReadRouter {
  const reads: Record<string, number> = { primary: 0 }
  const fallbacks: Record<string, number> = {}

  const update = (replica: Replica, next: Partial<ReplicaState>) => {
    const before = replica.state.status
    Object.assign(replica.state, next)
    replica.state.usable = replica.state.status === 'usable'
    if (replica.state.status !== before) {
      const level = replica.state.usable ? 'info' : 'warn'
      logger[level]({ replica: replica.name, status: replica.state.status, was: before, lagSeconds: replica.state.lagSeconds, lagBytes: replica.state.lagBytes }, `replica ${replica.name} is ${replica.state.status}`)
    }
  }

  const replicas: Replica[] = options.urls.map((url, i) => {
    const name = `replica-${i + 1}`
    reads[name] = 0
    fallbacks[name] = 0
    // A read failed on it and went to the primary: out of use until its next good check.
    const failed = (err: unknown) => {
      replica.failures++
      fallbacks[name]!++
      if (replica.state.status !== 'down') logger.warn({ replica: name, err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'replica failed a read: reads go to the primary until it answers its check again')
      update(replica, { status: 'down', up: false })
    }
    const pool = new ReplicaPool({ connectionString: url, max: options.poolMax, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 }, primary.pool, failed, logger, name)
    const replica: Replica = {
      name,
      pool,
      db: drizzle(pool, { schema }) as unknown as Db,
      replay: undefined,
      failures: 0,
      state: { name, status: 'unchecked', up: false, usable: false, replayPosition: null, lagBytes: null, lagSeconds: null, lastReplayedAt: null, checkedAt: null }
    }
    return replica
  })
  logger.info({ replicas: replicas.map((r, i) => ({ name: r.name, server: describeUrl(options.urls[i]!) })) }, 'reads may go to replicas (DATABASE_READ_URL)')

  // The primary's flushed WAL position as first seen at each check where it had moved:
  // a replica whose replay stops short of a sample has lacked that WAL since the sample's
  // time. This measures lag on this process's clock alone (not on commit timestamps,
  // which make an idle primary's replica look hours behind the moment a write arrives).
  const samples: Array<{ at: number, lsn: bigint }> = []

  async function samplePrimary () {
    const at = Date.now()
    try {
      const { rows } = await primary.pool.query<{ lsn: string }>({ text: 'select pg_current_wal_flush_lsn()::text as lsn', query_timeout: CHECK_TIMEOUT_MS } as pg.QueryConfig)
      const lsn = parseLsn(rows[0]!.lsn)!
      if (samples.length === 0 || lsn > samples[samples.length - 1]!.lsn) samples.push({ at, lsn })
      if (samples.length > MAX_SAMPLES) samples.shift()
    } catch {
      // The primary away: replicas are measured against what was last seen of it.
    }
  }

  async function checkReplica (replica: Replica) {
    try {
      const { rows } = await replica.pool.own<{ standby: boolean, replay: string | null, replayed_at: Date | null }>({ text: REPLICA_CHECK, query_timeout: CHECK_TIMEOUT_MS } as pg.QueryConfig)
      const row = rows[0]!
      const now = Date.now()
      const replay = row.replay !== null ? parseLsn(row.replay) : undefined
      replica.replay = replay
      const common = { up: true, checkedAt: new Date(now).toISOString(), lastReplayedAt: row.replayed_at?.toISOString() ?? null, replayPosition: replay !== undefined ? formatLsn(replay) : null }
      if (!row.standby || replay === undefined) {
        update(replica, { ...common, status: 'not-a-standby', lagBytes: null, lagSeconds: null })
        return
      }
      const newest = samples[samples.length - 1]
      const lagBytes = newest !== undefined && newest.lsn > replay ? Number(newest.lsn - replay) : 0
      const missing = samples.find((s) => s.lsn > replay)
      const lagMs = missing !== undefined ? now - missing.at : 0
      const within = lagMs <= options.maxLagMs && (options.maxLagBytes === 0 || lagBytes <= options.maxLagBytes)
      update(replica, { ...common, status: within ? 'usable' : 'lagging', lagBytes, lagSeconds: lagMs / 1000 })
    } catch {
      update(replica, { status: 'down', up: false })
    }
  }

  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let checking: Promise<void> = Promise.resolve()
  const tick = () => {
    // The primary first: a replica found at or past the newest sample is caught up.
    checking = samplePrimary().then(() => Promise.all(replicas.map(checkReplica))).then(() => {
      if (!stopped) timer = setTimeout(tick, options.checkIntervalMs).unref()
    })
  }
  tick()

  let next = 0
  let floor = 0n
  const primaryChoice: ReadChoice = { db: primary.db, server: 'primary', answeredBy: () => 'primary' }

  return {
    choose (position) {
      const needed = position !== undefined && position > floor ? position : floor
      const candidates = replicas.filter((r) => r.state.usable && r.replay !== undefined && r.replay >= needed)
      if (candidates.length === 0) {
        reads.primary!++
        return primaryChoice
      }
      const replica = candidates[next++ % candidates.length]!
      if (next >= Number.MAX_SAFE_INTEGER) next = 0
      reads[replica.name]!++
      const failures = replica.failures
      return { db: replica.db, server: replica.name, answeredBy: () => (replica.failures > failures ? 'primary' : replica.name) }
    },
    setFloor (position) { if (position > floor) floor = position },
    states: () => replicas.map((r) => ({ ...r.state })),
    counts: () => ({ reads: { ...reads }, fallbacks: { ...fallbacks } }),
    async close () {
      stopped = true
      clearTimeout(timer)
      await checking
      await Promise.all(replicas.map((r) => r.pool.ended ? undefined : r.pool.end()))
    }
  }
}
