import type { Db } from '../db/client.ts'
import { createChangesRepository } from '../modules/changes/changes.repository.ts'

const ignore = () => {}

export interface VersionSource {
  /**
   * A version taken after this call: for an answer that tells the client its copy is
   * current (a 304, an answer kept in memory), which must not miss a commit that was
   * acknowledged before the request arrived.
   */
  current: () => Promise<string>
  /**
   * A version taken before this call, for the ETag of an answer whose data are read next:
   * the data are then at least as new as the version, which is all a tag needs (a later
   * request gets 304 only if the version has not moved since, so neither have the data).
   * It does not wait once a version is known, and refreshes it in the background when it
   * was taken more than KNOWN_MAX_AGE_MS ago.
   */
  known: () => Promise<string>
}

/**
 * How old a version `known` may hand out before it asks for a newer one. A tag from an older
 * version is still right (its answer's data are at least as new), it only ends sooner: the
 * client's next conditional request after a write gets the full answer, as it would have
 * anyway. Without the bound, every full answer under load would set off another version
 * query, about one per answer; with it, one a second at most.
 */
const KNOWN_MAX_AGE_MS = 1000

/**
 * The data version of one database: the number of visible rows of the changes feed, which
 * rises with every commit that changed data and with nothing else (changes.repository.ts,
 * visibleSince). The rows below the last horizon are final, so their count is kept here and
 * each query counts only the rows from that horizon on. Queries run one at a time (below),
 * which is what keeps that count right. Equal versions mean equal data on any server of one
 * history (the primary and its replicas), so instances agree on tags.
 *
 * Concurrent callers share queries. A query already under way may have taken its snapshot before a
 * caller's request arrived, and so miss a commit whose answer the client had already seen:
 * `current` callers wait for the next query, which every caller arriving meanwhile
 * shares. So there is at most one version query in flight per database, whatever the
 * number of reads, and the price of a fresh version is at most one extra round trip.
 */
export function createVersionSource (db: Db): VersionSource {
  const changes = createChangesRepository(db)
  let running: Promise<string> | undefined
  let next: Promise<string> | undefined
  let last: Promise<string> | undefined
  // When the query that gave `last` started (its snapshot is at least that recent).
  let lastStarted = 0
  // Rows below `horizon` (a txid) are final; `settled` of them are visible.
  let horizon = '0'
  let settled = 0

  const version = async (): Promise<string> => {
    const counted = await changes.visibleSince(horizon)
    const total = settled + counted.since
    // xmin does not go back on one server; should a failover ever show an older one, the
    // kept count stays with the horizon it was counted to.
    if (BigInt(counted.horizon) > BigInt(horizon)) {
      settled += counted.settled
      horizon = counted.horizon
    }
    return String(total)
  }

  const start = () => {
    const started = performance.now()
    const query = version()
    running = query
    const done = () => { if (running === query) running = undefined }
    query.then((version) => {
      last = Promise.resolve(version)
      lastStarted = started
      done()
    }, done)
    return query
  }

  const current = () => {
    if (next !== undefined) return next
    if (running === undefined) return start()
    next = running.then(ignore, ignore).then(() => {
      next = undefined
      return start()
    })
    return next
  }

  return {
    current,
    known () {
      if (last === undefined) return current()
      if (running === undefined && next === undefined && performance.now() - lastStarted > KNOWN_MAX_AGE_MS) start().catch(ignore)
      return last
    }
  }
}
