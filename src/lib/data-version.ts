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
   * It does not wait once a version is known, and refreshes it in the background.
   */
  known: () => Promise<string>
}

/**
 * The data version (changes.repository.ts) of one database, with concurrent callers
 * sharing queries. A query already under way may have taken its snapshot before a
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

  const start = () => {
    const query = changes.version()
    running = query
    const done = () => { if (running === query) running = undefined }
    query.then((version) => {
      last = Promise.resolve(version)
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
      if (running === undefined && next === undefined) start().catch(ignore)
      return last
    }
  }
}
