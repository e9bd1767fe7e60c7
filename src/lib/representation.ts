import { Type, type TObject, type TSchema } from 'typebox'
import { ApiError } from '../errors/catalogue.ts'

/**
 * A client may GET a resource and PUT (or PATCH) it back as it came: the body may carry
 * the resource's key when it equals the path's, and the fields the server owns, which are
 * accepted and ignored (concurrency goes by If-Match, not by a revision in the body).
 * Anything else unknown is still refused.
 */
const SERVER_OWNED = ['revision', 'updatedBy', 'createdAt', 'updatedAt'] as const
type ServerOwned = typeof SERVER_OWNED[number]

/** The key and the server-owned fields of `resource`, each optional, for a PUT or PATCH body schema. */
export function roundTripFields (resource: TObject, key: string): Record<string, TSchema> {
  const properties = resource.properties as Record<string, TSchema>
  const out: Record<string, TSchema> = {
    [key]: Type.Optional(Type.Unsafe({ ...properties[key], description: `Optional: when sent it must equal the ${key} in the path (422 KEY_MISMATCH otherwise), so a resource read with GET can be written back` }))
  }
  for (const field of SERVER_OWNED) {
    const schema = properties[field]
    if (schema !== undefined) out[field] = Type.Optional(Type.Unsafe({ ...schema, description: 'Accepted and ignored: the server owns it (send If-Match for concurrency)' }))
  }
  return out
}

/**
 * The body's own fields: the key checked against the path's and dropped, the server-owned
 * fields dropped. A different key is 422 naming both.
 */
export function writableFields<T extends Record<string, unknown>, K extends string> (body: T, key: K, fromPath: string | number): Omit<T, K | ServerOwned> {
  const sent = body[key]
  if (sent !== undefined && sent !== fromPath) {
    throw new ApiError('KEY_MISMATCH', `The body's ${key} ${JSON.stringify(sent)} differs from the path's ${JSON.stringify(fromPath)}; a resource's ${key} cannot be changed.`, {
      errors: [{ field: `/body/${key}`, code: 'key-mismatch', message: `must equal the path's ${key} ${fromPath}` }]
    })
  }
  const out: Record<string, unknown> = { ...body }
  delete out[key]
  for (const field of SERVER_OWNED) delete out[field]
  return out as Omit<T, K | ServerOwned>
}
