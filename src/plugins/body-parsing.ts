import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ApiError } from '../errors/catalogue.ts'

// A NUL cannot be stored in PostgreSQL text, and a lone surrogate is not valid Unicode:
// both are refused at the door rather than failing deep in the database.
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** A JSON text that may hold a NUL or a surrogate: `\u0000` or `\uD800`-`\uDFFF` escapes. */
const SUSPECT_JSON = /\\u(?:0000|[dD][89a-fA-F])/

type ContentTypeParser = (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => void

const badText = (where: string) => new ApiError('VALIDATION_FAILED', 'Text may not contain NUL characters or unpaired surrogates.', {
  errors: [{ field: where, code: 'text', message: 'contains a NUL character or an unpaired surrogate' }]
})

function findBadText (value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return BAD_TEXT.test(value) ? path : undefined
  if (depth > 64 || value === null || typeof value !== 'object') return undefined
  // Only parsed data is walked: a CSV body arrives as a stream (its rows are validated).
  if (typeof (value as { pipe?: unknown }).pipe === 'function' || Buffer.isBuffer(value)) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadText(value[i], `${path}/${i}`, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, v] of Object.entries(value)) {
    if (BAD_TEXT.test(key)) return `${path}/${key}`
    const found = findBadText(v, `${path}/${key}`, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

/**
 * The body formats every route shares: JSON, and RFC 7396 merge patches (PATCH bodies)
 * parsed as JSON with the same checks. Text PostgreSQL cannot store is refused as a 400
 * problem, in bodies, query strings and path parameters alike. Formats a route takes besides
 * (CSV for the import) are declared by that route.
 */
export default fp(async (app) => {
  // JSON bodies (and merge patches) are checked as they are parsed. In JSON text a NUL or a
  // lone surrogate can only arrive as a \u escape (raw control characters are invalid and
  // malformed UTF-8 decodes to U+FFFD), so the parsed body is walked only when the text
  // holds such an escape: a 5,000-row import is not walked string by string.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  const checkedJson: ContentTypeParser = (request, text, done) => {
    parseJson(request, text as string, (err, body) => {
      if (err !== null) return done(err, undefined)
      const where = SUSPECT_JSON.test(text as string) ? findBadText(body, '/body') : undefined
      if (where !== undefined) return done(badText(where), undefined)
      done(null, body)
    })
  }
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, checkedJson)
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, checkedJson)

  // No other format is parsed for every route: a text/plain body would otherwise reach
  // validation as a string and get a confusing 400 instead of 415.
  app.removeContentTypeParser('text/plain')

  // A callback hook, not an async one: it runs on every request.
  app.addHook('preValidation', (request, _reply, done) => {
    const where = findBadText(request.query, '/query') ?? findBadText(request.params, '/path')
    done(where !== undefined ? badText(where) : undefined)
  })
}, { name: 'body-parsing', dependencies: ['problem-details'] })
