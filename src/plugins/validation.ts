import { Ajv, type ValidateFunction } from 'ajv'
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

/**
 * A validator compiled on its first use rather than when the route is registered: Ajv's
 * compilation of every route's schemas took some 0.3 s of each start (issue #7, embedded
 * restart), and most routes are not called in a process's first seconds. The test suite
 * calls every route, so a schema Ajv cannot compile still fails there.
 */
export function lazyValidator (compile: () => ValidateFunction): ValidateFunction {
  let validate: ValidateFunction | undefined
  const lazy = ((data: unknown) => {
    validate ??= compile()
    const valid = validate(data)
    lazy.errors = validate.errors
    return valid
  }) as ValidateFunction
  return lazy
}

export default fp(async (app) => {
  // The two Ajv instances too are made on the first validation (each compiles its
  // meta-schemas when made).
  let validators: ReturnType<typeof createValidators> | undefined
  app.setValidatorCompiler(({ schema, httpPart }) => lazyValidator(() => {
    validators ??= createValidators()
    return (httpPart === 'body' ? validators.body : validators.params).compile(schema)
  }))
}, { name: 'validation' })
