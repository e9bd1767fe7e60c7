import type { ValidateFunction } from 'ajv'
import fp from 'fastify-plugin'
import { createValidators } from '../lib/validators.ts'

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
