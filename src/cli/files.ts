import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { CliError, EXIT } from './exit-codes.ts'

/**
 * Writes a file whole or not at all: into a temporary file beside it, flushed to disk,
 * then renamed over the target. A crash leaves the old file (or none), never half of one.
 */
export async function writeFileAtomic (file: string, content: string | Uint8Array): Promise<void> {
  await withAtomicFile(file, async (tmp) => {
    const handle = await open(tmp, 'w')
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
  })
}

/** Runs `write` on a temporary path and renames it to `file` once `write` has finished. */
export async function withAtomicFile<T> (file: string, write: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = besides(file, 'tmp')
  try {
    const result = await write(tmp)
    await rename(tmp, file)
    return result
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** A stream to a temporary file for `withAtomicFile`; `close` flushes it to disk. */
export async function fileSink (tmp: string): Promise<{ stream: Writable, close: () => Promise<void> }> {
  const handle = await open(tmp, 'w') // an unwritable path fails here, not as an unhandled stream event
  const stream = handle.createWriteStream() // closes the handle once finished
  stream.on('error', () => {}) // surfaced by write(), pipeline() or close()
  return {
    stream,
    async close () {
      if (!stream.writableEnded) stream.end()
      await finished(stream)
      const again = await open(tmp, 'r+')
      try { await again.sync() } finally { await again.close() }
    }
  }
}

/** Writes to a stream, waiting when it asks us to (backpressure); rejects on a stream error. */
export async function write (stream: Writable, chunk: string): Promise<void> {
  if (stream.write(chunk)) return
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => { stream.off('drain', onDrain); reject(err) }
    const onDrain = () => { stream.off('error', onError); resolve() }
    stream.once('drain', onDrain)
    stream.once('error', onError)
  })
}

/** Resolves once everything written to stdout so far has been handed to the OS. */
export async function flushStdout (): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    process.stdout.write('', (err) => { if (err != null) reject(err); else resolve() })
  })
}

const FILE_ERRORS = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS', 'EPERM', 'ENOSPC'])

/** A file-system error on an output the user named becomes a usage error (exit 2). */
export function outputError (file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code
  if (!(err instanceof CliError) && code !== undefined && FILE_ERRORS.has(code)) return new CliError(EXIT.USAGE, `cannot write ${file}: ${code}`)
  return err
}

/** Appends the whole of `staged` to `file` (created if missing), flushed to disk. */
export async function appendStaged (file: string, staged: string): Promise<void> {
  const source = await open(staged, 'r')
  try {
    const target = await open(file, 'a')
    try {
      const buffer = Buffer.alloc(1 << 20)
      for (;;) {
        const { bytesRead } = await source.read(buffer, 0, buffer.length)
        if (bytesRead === 0) break
        await target.write(buffer, 0, bytesRead)
      }
      await target.sync()
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
}

/** A temporary file name beside `file` (same file system, so a rename is atomic). */
export function besides (file: string, suffix: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.${suffix}`)
}
