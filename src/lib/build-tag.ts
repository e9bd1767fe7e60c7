import { createHash, randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * What identifies the code that renders the answers, for the ETags of derived reads: a
 * deploy that changes how an answer is written must not be answered 304 for a copy the
 * previous code wrote. `npm start` and the container run one bundle of the whole service
 * (bin/serve.js), which this module is part of: its hash is the same on every instance
 * that runs the same build, so a tag one instance gave is honoured by the others. Run from
 * the sources (tests, development through tsx) the code has no single file to hash, so the
 * tag is new at every start: sound, at the price of one full answer per client after a
 * restart.
 */
async function compute (): Promise<string> {
  const file = fileURLToPath(import.meta.url)
  if (file.endsWith('.ts')) return randomUUID()
  return createHash('sha256').update(await readFile(file)).digest('base64url').slice(0, 16)
}

// Started on import, so the bundle is read and hashed while the database opens.
const tag = compute()
tag.catch(() => {})

export const buildTag = (): Promise<string> => tag
