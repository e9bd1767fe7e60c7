import { Type, type Static, type TSchema } from 'typebox'

/**
 * Shared schema primitives. Request bodies are validated strictly (no coercion, unknown
 * properties rejected); every object built here closes itself with additionalProperties.
 */

/** A JSON-schema `type: [T, "null"]` (cheaper to serialise than anyOf). */
export function Nullable<T extends TSchema> (schema: T, options: Record<string, unknown> = {}) {
  const s = schema as unknown as Record<string, unknown>
  const types = Array.isArray(s.type) ? s.type : [s.type]
  const out: Record<string, unknown> = { ...s, ...options, type: [...types, 'null'] }
  if (Array.isArray(s.enum)) out.enum = [...s.enum, null]
  return Type.Unsafe<Static<T> | null>(out)
}

export function StringEnum<const T extends readonly string[]> (values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

export const RegionCode = Type.String({
  pattern: '^([0-9]{6}|[0-9]{9})$',
  description: 'Statistical division code: six digits (province, prefecture, county; 100000 is the national root) or nine (township/street)',
  examples: ['331003']
})

export const Slug = Type.String({
  pattern: '^[a-z0-9][a-z0-9-]{1,98}[a-z0-9]$',
  description: 'Stable lowercase slug (letters, digits, hyphens)'
})

export const Year = Type.Integer({ minimum: 1949, maximum: 2100, description: 'Calendar year', examples: [2025] })

export const IsoDate = Type.String({ format: 'date', description: 'Calendar date, YYYY-MM-DD', examples: ['2023-02-03'] })
/** Server timestamps: Date objects inside, RFC 3339 strings on the wire. */
export const Timestamp = Type.Unsafe<Date | string>({ type: 'string', format: 'date-time', description: 'Server timestamp (RFC 3339)' })

/** Decimal as sent by clients: a JSON number or a decimal string; stored as `numeric`, never a float. */
export const DECIMAL_PATTERN = '^-?(0|[1-9][0-9]{0,14})(\\.[0-9]{1,6})?$'
export const DecimalInput = Type.Unsafe<number | string>({
  type: ['number', 'string'],
  pattern: DECIMAL_PATTERN,
  description: 'Decimal number: a JSON number or a string such as "789.55" (at most 15 integer and 6 fraction digits)',
  examples: ['58200']
})
/** Decimal as answered: always a string, so no precision is lost in any client. */
export const DecimalOutput = Type.String({
  description: 'Decimal number as a string (exact; parse with a decimal type)',
  examples: ['98.5']
})

export const Revision = Type.Integer({ minimum: 1, description: 'Revision of the resource; the ETag carries it' })

export const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (1-1000)' })
export const Cursor = Type.String({ maxLength: 512, pattern: '^[A-Za-z0-9_-]*$', description: 'Opaque cursor from a previous page\'s nextCursor' })
export const PageQuery = {
  limit: Type.Optional(Limit),
  cursor: Type.Optional(Cursor)
}

export function Page<T extends TSchema> (item: T, options: Record<string, unknown> = {}) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(Type.String(), { description: 'Cursor of the next page; null on the last page' })
  }, { additionalProperties: false, ...options })
}

export const SearchText = Type.String({ minLength: 1, maxLength: 100, description: 'Case-insensitive substring of the name (Chinese or English) or code' })
