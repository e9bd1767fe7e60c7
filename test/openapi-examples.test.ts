import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { build } from './helper.ts'

// Examples that cannot rot: every operation of the OpenAPI document is sent with its
// documented request example (body, path and required query parameters) against the seed
// dataset. The answer must be a status the operation documents (a success, unless listed
// in `expectedStatus` below with the reason), and the documented response examples for
// that status, and the answer itself, must validate against the response schema.

interface MediaType { schema?: Schema, example?: unknown, examples?: Record<string, { value: unknown }> }
interface Schema { $ref?: string, examples?: unknown[], example?: unknown, [k: string]: unknown }
interface Parameter { in: string, name: string, required?: boolean, schema?: Schema, example?: unknown }
interface Operation {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, MediaType> }
  responses: Record<string, { content?: Record<string, MediaType> }>
}
type Method = 'get' | 'put' | 'post' | 'patch' | 'delete'

const app = await build(t, { seed: true })
const doc = (await app.inject('/openapi.json')).json<{ paths: Record<string, Partial<Record<Method, Operation>>>, components: { schemas: Record<string, Schema> } }>()

const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats.default(ajv) // CommonJS default export, as in src/plugins/validation.ts
/** A validator of a response or request schema, with components.schemas registered for its $refs. */
const validatorOf = (schema: Schema) => ajv.compile({ ...schema, components: { schemas: doc.components.schemas } })

/**
 * Operations whose documented example answers with a documented error against the seed,
 * on purpose: the example names a region, indicator or plan that other records still use.
 */
const expectedStatus: Record<string, { status: number, why: string }> = {
  deleteRegion: { status: 409, why: 'region 331003 holds the seed\'s values and plans (REGION_IN_USE)' },
  deleteIndicator: { status: 409, why: 'the seed reports values of hardship-subsidy-coverage (INDICATOR_IN_USE)' },
  deletePlan: { status: 409, why: 'the plan of createPlan\'s example implements huangyan-disability-14th-fyp (PLAN_IN_USE)' }
}

/** Values of examples: a media type's `example`, its named `examples`, or the schema's `examples`. */
function examplesOf (media: MediaType | undefined): unknown[] {
  if (media === undefined) return []
  if (media.example !== undefined) return [media.example]
  if (media.examples !== undefined) return Object.values(media.examples).map((e) => e.value)
  const schema = media.schema?.$ref !== undefined ? doc.components.schemas[media.schema.$ref.split('/').pop()!] : media.schema
  return schema?.examples ?? (schema?.example !== undefined ? [schema.example] : [])
}

/** Ids that only exist once an earlier example created them (the document has no example for them). */
const created: { valueId?: string, tokenId?: string } = {}

function pathParam (operation: Operation, p: Parameter): string {
  const example = p.schema?.examples?.[0] ?? p.example
  if (example !== undefined) return String(example)
  if (p.name === 'id' && operation.operationId.includes('Token')) return created.tokenId!
  if (p.name === 'id') return created.valueId! // the value that createValue's example made
  throw new Error(`${operation.operationId}: no example for path parameter ${p.name}`)
}

async function send (method: Method, path: string, operation: Operation, contentType?: string, body?: unknown): Promise<LightMyRequestResponse> {
  let url = path
  const query = new URLSearchParams()
  for (const p of operation.parameters ?? []) {
    if (p.in === 'path') url = url.replace(`{${p.name}}`, encodeURIComponent(pathParam(operation, p)))
    else if (p.in === 'query' && p.required === true) query.set(p.name, String(p.schema?.examples?.[0] ?? p.example))
  }
  const options: InjectOptions = { method: method.toUpperCase() as InjectOptions['method'], url: `${url}${query.size > 0 ? `?${query}` : ''}` }
  if (contentType !== undefined) {
    options.headers = { 'content-type': contentType }
    options.payload = typeof body === 'string' ? body : JSON.stringify(body)
  }
  return app.inject(options)
}

function check (t: Test, operation: Operation, res: LightMyRequestResponse, label: string) {
  const expected = expectedStatus[operation.operationId]
  const documented = operation.responses[String(res.statusCode)]
  t.ok(documented !== undefined, `${label}: ${res.statusCode} is a documented status`)
  if (expected !== undefined) t.equal(res.statusCode, expected.status, `${label}: ${expected.why}`)
  else t.ok(res.statusCode < 400, `${label}: the example succeeds (${res.statusCode} ${res.statusCode >= 400 ? res.body : ''})`)
  if (documented?.content === undefined) {
    t.equal(res.body, '', `${label}: no body, as documented`)
    return
  }
  const contentType = String(res.headers['content-type'] ?? '').split(';')[0]!
  const media = documented.content[contentType]
  t.ok(media, `${label}: answered ${contentType}, a documented content type`)
  if (media?.schema === undefined) return
  const validate = validatorOf(media.schema)
  const examples = Object.values(documented.content).length > 0 ? examplesOf(media) : []
  t.ok(examples.length > 0, `${label}: the ${res.statusCode} ${contentType} answer has a documented example`)
  for (const example of examples) t.ok(validate(example), `${label}: the documented ${res.statusCode} example matches its schema ${ajv.errorsText(validate.errors)}`)
  const answer = contentType.endsWith('json') ? res.json() : res.body
  t.ok(validate(answer), `${label}: the answer matches the schema ${ajv.errorsText(validate.errors)}`)
}

// The order a person trying the examples would follow: reads first, then creates, changes,
// and deletes last, so that what the examples read is there and what they delete exists.
const order: Record<Method, number> = { get: 0, post: 1, put: 2, patch: 3, delete: 4 }
const operations = Object.entries(doc.paths)
  .flatMap(([path, item]) => (Object.keys(order) as Method[]).filter((m) => item[m] !== undefined).map((method) => ({ path, method, operation: item[method]! })))
  .sort((a, b) => order[a.method] - order[b.method])

// Values and tokens have server-made ids: the create examples run first, and the others
// use what they made.
operations.sort((a, b) => Number(b.operation.operationId === 'createValue' || b.operation.operationId === 'createToken') - Number(a.operation.operationId === 'createValue' || a.operation.operationId === 'createToken'))

t.test('every operation has a request example where it takes a body', async (t) => {
  for (const { operation } of operations) {
    for (const [contentType, media] of Object.entries(operation.requestBody?.content ?? {})) {
      const examples = examplesOf(media)
      // A binary body (a workbook) has no example that can be written in the document.
      if ((media.schema as { contentMediaType?: string } | undefined)?.contentMediaType !== undefined) continue
      t.ok(examples.length > 0, `${operation.operationId} ${contentType}: has an example`)
      if (contentType === 'application/json' && media.schema !== undefined) {
        const validate = validatorOf(media.schema)
        for (const e of examples) t.ok(validate(e), `${operation.operationId}: the request example matches its schema ${ajv.errorsText(validate.errors)}`)
      }
    }
  }
})

for (const { path, method, operation } of operations) {
  t.test(`${method.toUpperCase()} ${path} (${operation.operationId})`, async (t) => {
    const bodies = Object.entries(operation.requestBody?.content ?? {})
    if (bodies.length === 0) {
      check(t, operation, await send(method, path, operation), operation.operationId)
      return
    }
    for (const [contentType, media] of bodies) {
      for (const [i, example] of examplesOf(media).entries()) {
        const res = await send(method, path, operation, contentType, example)
        check(t, operation, res, `${operation.operationId} ${contentType} example ${i + 1}`)
        if (operation.operationId === 'createValue' && res.statusCode === 201) created.valueId ??= String(res.json().id)
        if (operation.operationId === 'createToken' && res.statusCode === 201) created.tokenId ??= String(res.json().id)
      }
    }
  })
}
