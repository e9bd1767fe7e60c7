import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'

/**
 * The two Ajv instances of the service (Fastify's documented pattern for a validator per
 * HTTP part). Bodies are checked strictly: no type coercion (`true` stays a boolean,
 * "2020" stays a string) and nothing removed, so bad input is rejected, never changed.
 * Query strings and path parameters arrive as text and are coerced to their types.
 * The bulk import and the seed loader check their rows with the body validator, so a row
 * passes exactly when the same value would pass as a request body.
 */
export function createValidators () {
  const common = { useDefaults: true, removeAdditional: false, allErrors: true, strict: false, allowUnionTypes: true } as const
  const body = new Ajv({ ...common, coerceTypes: false })
  const params = new Ajv({ ...common, coerceTypes: 'array' })
  addFormats.default(body)
  addFormats.default(params)
  return { body, params }
}
