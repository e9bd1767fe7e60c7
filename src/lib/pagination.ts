import { ApiError } from '../errors/catalogue.ts'

/**
 * Keyset pagination: the cursor is the sort key of the last item served, base64url-encoded
 * JSON. It is opaque to clients; a tampered or foreign cursor is a 400.
 */
export type CursorKey = Array<string | number>

export function encodeCursor (key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url')
}

/**
 * What each part of a cursor may be. A forged cursor must fail here, never in the database
 * (an int4 column compared with 1e10, a NUL in a text): `int` fits an int4 column, `id` is a
 * positive integer JavaScript holds exactly (ids are bigint), `number` a finite number
 * within the decimals the registry stores, `string` a text of at most 200 characters
 * without NUL.
 */
export type CursorPart = 'string' | 'int' | 'id' | 'number'
const INT4_MAX = 2 ** 31 - 1
const valid: Record<CursorPart, (k: unknown) => boolean> = {
  string: (k) => typeof k === 'string' && k.length <= 200 && !k.includes('\u0000'),
  int: (k) => Number.isInteger(k) && Math.abs(k as number) <= INT4_MAX,
  id: (k) => Number.isSafeInteger(k) && (k as number) >= 1,
  number: (k) => typeof k === 'number' && Number.isFinite(k) && Math.abs(k) < 1e15
}

export function decodeCursor (cursor: string | undefined, shape: CursorPart[], field = 'cursor'): CursorKey | undefined {
  if (cursor === undefined || cursor === '') return undefined
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    key = undefined
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((k, i) => !valid[shape[i]!](k))) throw invalidCursor(field)
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
