import { ApiError } from '../errors/catalogue.ts'

/**
 * Keyset pagination: the cursor is the sort key of the last item served, base64url-encoded
 * JSON. It is opaque to clients; a tampered or foreign cursor is a 400.
 */
export type CursorKey = Array<string | number>

export function encodeCursor (key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

const kindOf = (k: unknown): string => typeof k

export function decodeCursor (cursor: string | undefined, shape: Array<'string' | 'number'>): CursorKey | undefined {
  if (cursor === undefined || cursor === '') return undefined
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    key = undefined
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((k, i) => kindOf(k) !== shape[i])) throw invalidCursor()
  return key as CursorKey
}

export function invalidCursor (field = 'cursor'): ApiError {
  return new ApiError('INVALID_CURSOR', 'The cursor was not produced by this list; start again without a cursor.', {
    errors: [{ field: `/query/${field}`, code: 'invalid', message: 'not a cursor of this list' }]
  })
}

/** Cuts the extra row fetched to learn whether another page follows. */
export function pageOf<T> (rows: T[], limit: number, keyOf: (row: T) => CursorKey) {
  const hasMore = rows.length > limit
  const items = hasMore ? rows.slice(0, limit) : rows
  const last = items[items.length - 1]
  return { items, nextCursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null }
}

/** Escapes LIKE wildcards in user text. */
export function likePattern (text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}
