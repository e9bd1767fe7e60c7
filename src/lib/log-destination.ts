import { EventEmitter } from 'node:events'
import pino, { type LoggerOptions } from 'pino'

/** Characters of log lines held before they are written, while the server is serving. */
export const LOG_BLOCK_BYTES = 16_384
/** Held lines are written at the latest after this long (ms), busy or not. */
export const LOG_FLUSH_MS = 1000

/** What pino writes its lines to: holds them in blocks in front of a synchronous sonic-boom. */
export interface BlockStream extends EventEmitter {
  write: (line: string) => boolean
  /** Hands what is held to the file descriptor now (pino's `logger.flush(cb)` passes a callback). */
  flush: (cb?: (err?: Error) => void) => void
  /** Same as flush (the descriptor is written synchronously); pino.final and tests call it. */
  flushSync: () => void
  /** Writes what is held, stops the periodic flush and closes the descriptor ('close' follows). */
  destroy: () => void
}

export interface LogDestination {
  /** pino options: the destination and the hook that decides when a line is written. */
  options: Pick<LoggerOptions, 'hooks'> & { stream: BlockStream }
  /** Serving: info lines (one per request) are written in blocks; otherwise every line at once. */
  setServing: (serving: boolean) => void
}

/**
 * Where the service's log lines go (stdout by default), and when.
 *
 * Under load the request log lines (level info, one per request) are written in blocks of
 * about 16 KB, synchronously from this thread, and at the latest after a second: one write
 * serves some sixty requests. Every other line is written at once: startup and shutdown
 * (nobody should think a first start hung), and every warning or error whenever it happens.
 * What is held is written when the process exits (process.exit(), the end after SIGTERM's
 * drain) or crashes (an uncaught exception skips 'exit': uncaughtExceptionMonitor); only a
 * SIGKILL can lose up to a second of request lines.
 *
 * Why (issue #7, read path): pino's asynchronous destination writes through libuv's thread
 * pool, one write per event-loop turn, roughly every fifth request under load. Each such
 * write woke a pool thread and then the event loop again: on two cores that doubled the
 * service's futex calls and context switches per request (perf stat: 0.45 futex and 0.5
 * context switches per request against 0.09 and 0.3 without the request log line).
 *
 * The lines are held here, in an array, rather than in sonic-boom's own buffer (its
 * `minLength`): sonic-boom appends each line to one growing string and measures that
 * string's UTF-8 length again on every write, which flattens it each time, about 2.5 us per
 * request line at a 4 KB block (perf, bench/README.md). Sonic-boom still does the writing:
 * partial writes, EAGAIN on a non-blocking pipe, errors.
 */
export function createLogDestination ({ fd = 1, blockBytes = LOG_BLOCK_BYTES, flushMs = LOG_FLUSH_MS } = {}): LogDestination {
  const sonic = pino.destination({ dest: fd, sync: true })
  let held: string[] = []
  let heldLength = 0
  let serving = false
  let closed = false

  const flush = () => {
    if (heldLength === 0 || closed) return
    const block = held.length === 1 ? held[0]! : held.join('')
    held = []
    heldLength = 0
    sonic.write(block)
  }
  // Busy or not, nothing waits longer than flushMs; the timer never keeps the process up.
  const timer = setInterval(flush, flushMs).unref()

  const stream = Object.assign(new EventEmitter(), {
    write (line: string) {
      held.push(line)
      heldLength += line.length
      // Not serving (starting, stopping): every line at once. The request line is written
      // here without pino's log method (src/lib/request-log.ts), so this is decided here.
      if (!serving || heldLength >= blockBytes) flush()
      return true
    },
    flush (cb?: (err?: Error) => void) {
      flush()
      cb?.()
    },
    flushSync: flush,
    destroy () {
      flush()
      closed = true
      clearInterval(timer)
      sonic.destroy()
    }
  }) satisfies BlockStream

  // pino registers no exit handler for a synchronous destination: it holds nothing by
  // default. This one does, so it writes what it holds on the way out, until it is closed.
  const flushOnExit = () => {
    try {
      flush()
    } catch {} // stdout gone: nothing left to write to
  }
  process.on('exit', flushOnExit)
  process.on('uncaughtExceptionMonitor', flushOnExit)
  sonic.once('close', () => {
    closed = true
    clearInterval(timer)
    process.off('exit', flushOnExit)
    process.off('uncaughtExceptionMonitor', flushOnExit)
    stream.emit('close')
  })
  // Write errors stay sonic-boom's as pino.destination sets it up: on EPIPE (the reader of
  // stdout went away) it turns its own writes into no-ops and the service carries on without
  // a log; any other error is thrown from the write, as with pino's default destination.

  return {
    options: {
      stream,
      hooks: {
        logMethod (args, method, level) {
          method.apply(this, args)
          if (level > pino.levels.values.info!) flush()
        }
      }
    },
    setServing (value) { serving = value }
  }
}
