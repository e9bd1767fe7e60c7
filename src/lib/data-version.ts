import type { Db } from '../db/client.ts'
import { createChangesRepository } from '../modules/changes/changes.repository.ts'

const ignore = () => {}

/**
 * The data version (changes.repository.ts) as of a moment after the caller asked, with
 * concurrent callers sharing one query. A query already under way may have taken its
 * snapshot before this caller's request arrived, and so miss a commit whose answer the
 * client had already seen: such a caller waits for the next query, which every caller
 * arriving meanwhile shares. So there is at most one version query in flight per
 * database, whatever the number of reads, and no read ever gets a version older than its
 * own arrival; the price is at most one extra round trip of waiting.
 */
export function createVersionSource (db: Db): () => Promise<string> {
  const changes = createChangesRepository(db)
  let running: Promise<string> | undefined
  let next: Promise<string> | undefined

  const start = () => {
    const query = changes.version()
    running = query
    const done = () => { if (running === query) running = undefined }
    query.then(done, done)
    return query
  }

  return function current () {
    if (next !== undefined) return next
    if (running === undefined) return start()
    next = running.then(ignore, ignore).then(() => {
      next = undefined
      return start()
    })
    return next
  }
}
