import type { FastifyReply } from 'fastify'

/**
 * Adds request header names to the answer's Vary (RFC 9110 §12.5.5), keeping those already
 * there (CORS adds Origin, problem answers Accept-Language), each once.
 */
export function addVary (reply: FastifyReply, ...fields: readonly string[]): void {
  const current = reply.getHeader('vary')
  const list = typeof current === 'string' ? current.split(',').map((f) => f.trim()).filter((f) => f !== '') : []
  if (list.includes('*')) return
  const known = new Set(list.map((f) => f.toLowerCase()))
  for (const field of fields) {
    if (!known.has(field.toLowerCase())) {
      list.push(field)
      known.add(field.toLowerCase())
    }
  }
  if (list.length > 0) reply.header('vary', list.join(', '))
}
