import pino, { type LoggerOptions } from 'pino'

/** Bytes of log lines held before they are written, while the server is serving. */
export const LOG_BLOCK_BYTES = 4096
/** Held lines are written at the latest after this long (ms), busy or not. */
export const LOG_FLUSH_MS = 1000

export interface LogDestination {
  /** pino options: the destination and the hook that decides when a line is written. */
  options: Pick<LoggerOptions, 'hooks'> & { stream: ReturnType<typeof pino.destination> }
  /** Serving: info lines (one per request) are written in blocks; otherwise every line at once. */
  setServing: (serving: boolean) => void
}

/**
 * Where the service's log lines go (stdout by default), and when.
 *
 * Under load the request log lines (level info, one per request) are written in blocks of
 * about 4 KB, synchronously from this thread, and at the latest after a second: one write
 * serves a dozen requests. Every other line is written at once: startup and shutdown
 * (nobody should think a first start hung), and every warning or error whenever it happens.
 * What is held is written when the process exits (process.exit(), the end after SIGTERM's
 * drain) or crashes (an uncaught exception skips 'exit': uncaughtExceptionMonitor); only a
 * SIGKILL can lose up to a second of request lines.
 *
 * Why (issue #7, read path): pino's asynchronous destination writes through libuv's thread
 * pool, one write per event-loop turn, roughly every fifth request under load. Each such
 * write woke a pool thread and then the event loop again: on two cores that doubled the
 * service's futex calls and context switches per request (perf stat: 0.45 futex and 0.5
 * context switches per request against 0.09 and 0.3 without the request log line). Written
 * in blocks from the main thread, the request line costs as few of them as no line at all
 * (its CPU per request stayed about the same: the write moved to this thread; bench/README.md).
 */
export function createLogDestination ({ fd = 1, blockBytes = LOG_BLOCK_BYTES, flushMs = LOG_FLUSH_MS } = {}): LogDestination {
  const stream = pino.destination({ dest: fd, sync: true, minLength: blockBytes, periodicFlush: flushMs })
  let serving = false
  // pino registers no exit handler for a synchronous destination: it holds nothing by
  // default. This one does, so it writes what it holds on the way out, until it is closed.
  const flushSync = () => {
    try {
      stream.flushSync()
    } catch {} // closed (destroyed, or stdout gone): nothing left to write to
  }
  process.on('exit', flushSync)
  process.on('uncaughtExceptionMonitor', flushSync)
  stream.once('close', () => {
    process.off('exit', flushSync)
    process.off('uncaughtExceptionMonitor', flushSync)
  })
  return {
    options: {
      stream,
      hooks: {
        logMethod (args, method, level) {
          method.apply(this, args)
          if (!serving || level > pino.levels.values.info!) stream.flush()
        }
      }
    },
    setServing (value) { serving = value }
  }
}
