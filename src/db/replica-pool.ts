import pg from 'pg'
import type { Logger } from 'pino'
import { isUnavailable } from './errors.ts'

/**
 * The connection pool of one read replica, for drizzle and src/db/query.ts alike (it is a
 * `pg.Pool`, so both treat it as one). A read never fails because of a replica: when the
 * replica cannot answer (stopped, restarting, its connections cut, a query cancelled by a
 * recovery conflict: whatever src/db/errors.ts calls unavailable), the query or the
 * connection is asked of the primary instead, and `failed` tells the read router, which
 * stops choosing the replica until its monitor finds it well again. Reads only ever run
 * here, so asking again is safe. A connection already handed out (an export's COPY, a
 * transaction) cannot move: a replica that dies under it fails that request as the
 * primary dying would.
 */
export class ReplicaPool extends pg.Pool {
  private readonly primary: pg.Pool
  private readonly failed: (err: unknown) => void

  constructor (config: pg.PoolConfig, primary: pg.Pool, failed: (err: unknown) => void, logger: Logger, name: string) {
    super(config)
    this.primary = primary
    this.failed = failed
    // An idle or checked-out client whose server goes away emits 'error'; without these
    // listeners a replica's restart would end the process.
    this.on('error', (err) => logger.warn({ replica: name, err: { message: err.message, code: (err as { code?: string }).code } }, 'idle replica client failed'))
    this.on('connect', (client) => {
      client.on('error', (err) => logger.warn({ replica: name, err: { message: err.message } }, 'replica client failed'))
    })
  }

  /** A query on the replica itself, never asked of the primary: the monitor's checks. */
  async own<R extends pg.QueryResultRow> (config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    return super.query<R>(config)
  }

  // Both overrides keep pg's callback forms as they are: pg.Pool's own query() takes a
  // connection through connect(callback), and its failure reaches query()'s promise here.
  override query (...args: any[]): any {
    if (args.length === 0 || typeof args[args.length - 1] === 'function' || typeof (args[0] as { submit?: unknown }).submit === 'function') return (super.query as (...a: any[]) => any)(...args)
    return ((super.query as (...a: any[]) => Promise<unknown>)(...args)).catch((err: unknown) => {
      if (!isUnavailable(err)) throw err
      this.failed(err)
      return (this.primary.query as (...a: any[]) => Promise<unknown>)(...args)
    })
  }

  override connect (...args: any[]): any {
    if (args.length > 0) return (super.connect as (...a: any[]) => any)(...args)
    return (super.connect() as Promise<pg.PoolClient>).catch((err: unknown) => {
      if (!isUnavailable(err)) throw err
      this.failed(err)
      return this.primary.connect()
    })
  }
}
