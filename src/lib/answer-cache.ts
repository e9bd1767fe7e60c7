import { LRUCache } from 'lru-cache'

export interface Answer { etag: string, type: string, payload: string }

/**
 * Serialized answers of data routes kept in this process, each with the ETag it was
 * answered under; the least recently used go first once `maxBytes` is reached. An entry
 * is served only to a request whose own ETag, from a data version taken after it arrived,
 * is the entry's: a version that has not moved means no write has committed since the
 * entry's version was taken, so its answer is still the current one. Nothing has to be
 * told of writes (no invalidation message, which could arrive after the commit it
 * announces): an entry whose tag is no longer current is simply never served again.
 */
export function createAnswerCache (maxBytes: number) {
  const entries = new LRUCache<string, Answer>({
    maxSize: maxBytes,
    // JavaScript strings take up to two bytes a character; the rest is the entry's overhead.
    sizeCalculation: (answer, key) => 2 * (key.length + answer.payload.length) + 200
  })
  return {
    get (key: string, etag: string): Answer | undefined {
      const hit = entries.get(key)
      return hit?.etag === etag ? hit : undefined
    },
    set (key: string, answer: Answer): void {
      entries.set(key, answer)
    }
  }
}
