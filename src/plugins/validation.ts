import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import fp from 'fastify-plugin'

/**
 * Two validators. Bodies are checked strictly: no type coercion (`true` stays a boolean,
 * "2020" stays a string) and nothing removed, so bad input is rejected, never changed.
 * Query strings and path parameters arrive as text and are coerced to their types.
 */
export function createValidators () {
  const common = { useDefaults: true, removeAdditional: false, allErrors: true, strict: false, allowUnionTypes: true } as const
  const body = new Ajv({ ...common, coerceTypes: false })
  const params = new Ajv({ ...common, coerceTypes: 'array' })
  addFormats.default(body)
  addFormats.default(params)
  return { body, params }
}

export default fp(async (app) => {
  const { body, params } = createValidators()
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : params).compile(schema))
}, { name: 'validation' })
