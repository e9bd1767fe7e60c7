import fp from 'fastify-plugin'
import { createValidators } from '../lib/validators.ts'

/**
 * Fastify's documented pattern for a validator per HTTP part: bodies through the strict Ajv
 * instance, query strings and path parameters through the coercing one (src/lib/validators.ts).
 * Each route's schemas are compiled when the route is registered, so a schema Ajv cannot
 * compile stops the start instead of failing a request.
 */
export default fp(async (app) => {
  const validators = createValidators()
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? validators.body : validators.params).compile(schema))
}, { name: 'validation' })
