import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'

/**
 * The OpenAPI 3.1 document as the fuzzer sees it: one entry per operation with its
 * parameters, request bodies (by content type, `$ref`s inlined for generation) and
 * response schemas (validated with ajv 2020-12, `$ref`s resolved through the registered
 * `components.schemas`).
 */
export type Schema = Record<string, unknown>

export interface Param { name: string, in: 'path' | 'query' | 'header', required: boolean, schema: Schema }

export interface Operation {
  id: string
  method: string
  path: string
  /** POST, PUT, PATCH and DELETE. */
  write: boolean
  params: Param[]
  body?: { required: boolean, content: Record<string, Schema> }
  /** status -> content type -> schema ({} when the response has no content). */
  responses: Record<string, Record<string, Schema>>
}

export interface Spec {
  operations: Operation[]
  /** Validates a response body against the operation's schema for that status and media type. */
  validator: (op: Operation, status: string, mediaType: string) => ValidateFunction | undefined
  problem: ValidateFunction
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch']
const COMPONENT_REF = /^#\/components\/schemas\/(.+)$/
const componentId = (name: string) => `urn:fuzz:component:${name}`

/** Deep copy with every `#/components/schemas/X` reference rewritten to the id ajv knows. */
function rewriteRefs (node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs)
  if (node === null || typeof node !== 'object') return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id') continue
    if (key === '$ref' && typeof value === 'string') {
      const m = COMPONENT_REF.exec(value)
      out[key] = m !== null ? componentId(m[1]!) : value
    } else {
      out[key] = rewriteRefs(value)
    }
  }
  return out
}

/** Deep copy with local `$ref`s replaced by what they point at (for the generator). */
export function inlineRefs (node: unknown, root: Schema, depth = 0): unknown {
  if (Array.isArray(node)) return node.map((n) => inlineRefs(n, root, depth))
  if (node === null || typeof node !== 'object') return node
  const record = node as Record<string, unknown>
  if (typeof record.$ref === 'string' && record.$ref.startsWith('#/') && depth < 8) {
    let target: unknown = root
    for (const part of record.$ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')]
    const { $ref: _ref, ...siblings } = record
    return inlineRefs({ ...(target as Schema), ...siblings }, root, depth + 1)
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    if (key !== '$id') out[key] = inlineRefs(value, root, depth)
  }
  return out
}

export function loadSpec (file: string | URL): Spec {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Schema
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Schema>>
  const components = ((doc.components as Schema | undefined)?.schemas ?? {}) as Record<string, Schema>

  const ajv = new Ajv2020({ strict: false, allErrors: true, allowUnionTypes: true, validateFormats: true })
  addFormats.default(ajv)
  for (const [name, schema] of Object.entries(components)) ajv.addSchema(rewriteRefs(schema) as Schema, componentId(name))

  const operations: Operation[] = []
  for (const [path, item] of Object.entries(paths)) {
    const shared = (item.parameters ?? []) as Schema[]
    for (const method of METHODS) {
      const raw = item[method]
      if (raw === undefined) continue
      const op = inlineRefs(raw, doc) as Schema
      const params = [...shared, ...((op.parameters ?? []) as Schema[])]
        .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
        .map((p): Param => ({ name: String(p.name), in: p.in as Param['in'], required: p.required === true, schema: (p.schema ?? {}) as Schema }))
      const requestBody = op.requestBody as { required?: boolean, content?: Record<string, { schema?: Schema }> } | undefined
      const responses: Operation['responses'] = {}
      for (const [status, response] of Object.entries((raw.responses ?? {}) as Record<string, { content?: Record<string, { schema?: Schema }> }>)) {
        responses[status] = {}
        for (const [type, media] of Object.entries(response.content ?? {})) responses[status][type] = media.schema ?? {}
      }
      operations.push({
        id: typeof op.operationId === 'string' ? op.operationId : `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        write: method !== 'get',
        params,
        body: requestBody?.content !== undefined
          ? { required: requestBody.required === true, content: Object.fromEntries(Object.entries(requestBody.content).map(([t, m]) => [t, m.schema ?? {}])) }
          : undefined,
        responses
      })
    }
  }

  const cache = new Map<string, ValidateFunction | undefined>()
  const validator = (op: Operation, status: string, mediaType: string) => {
    const key = `${op.id} ${status} ${mediaType}`
    if (!cache.has(key)) {
      const schema = op.responses[status]?.[mediaType]
      cache.set(key, schema !== undefined ? ajv.compile(rewriteRefs(schema) as Schema) : undefined)
    }
    return cache.get(key)
  }
  const problem = components.Problem !== undefined
    ? ajv.getSchema(componentId('Problem'))!
    : ajv.compile({ type: 'object', required: ['type', 'title', 'status', 'detail', 'instance', 'code'] })
  return { operations, validator, problem }
}
