import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pino from 'pino'
import t from 'tap'
import { createLogDestination } from '../src/lib/log-destination.ts'

/** A logger writing to a temporary file, and what the file holds so far. */
function fileLogger (flushMs = 60_000) {
  const dir = mkdtempSync(path.join(tmpdir(), 'registry-log-'))
  const file = path.join(dir, 'out.log')
  const fd = openSync(file, 'w')
  const destination = createLogDestination({ fd, blockBytes: 1024, flushMs })
  const log = pino({ level: 'info', hooks: destination.options.hooks }, destination.options.stream)
  const written = () => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).msg as string)
  const close = async () => {
    const closed = once(destination.options.stream, 'close')
    destination.options.stream.destroy() // stops the periodic flush and closes the file
    await closed
    rmSync(dir, { recursive: true, force: true })
  }
  return { log, destination, written, close }
}

t.test('before the server serves, every line is written at once', async (t) => {
  const { log, written, close } = fileLogger()
  t.teardown(close)
  log.info('opening the database')
  t.same(written(), ['opening the database'])
  log.info('ready')
  t.same(written(), ['opening the database', 'ready'])
})

t.test('while serving, info lines are held until a block is full; warnings and errors go out at once, after what was held', async (t) => {
  const { log, destination, written, close } = fileLogger()
  t.teardown(close)
  destination.setServing(true)
  log.info('request 1')
  log.info('request 2')
  t.same(written(), [], 'request lines held')
  log.warn('pool exhausted')
  t.same(written(), ['request 1', 'request 2', 'pool exhausted'], 'a warning writes the held lines first, in order')
  for (let i = 0; i < 20; i++) log.info({ padding: 'x'.repeat(60) }, `request ${3 + i}`)
  const afterBlock = written()
  t.ok(afterBlock.length > 3 && afterBlock.length < 23, `a full block (1 KB here) is written without waiting (${afterBlock.length - 3} of 20 lines out)`)
  log.error('database unreachable')
  t.equal(written().at(-1), 'database unreachable')
  t.equal(written().length, 24, 'nothing lost')
  destination.setServing(false)
  log.info('shutting down')
  t.equal(written().at(-1), 'shutting down', 'shutdown lines are written at once again')
})

t.test('held lines are written after the flush interval, and by flushSync on exit', async (t) => {
  const { log, destination, written, close } = fileLogger(50)
  t.teardown(close)
  destination.setServing(true)
  log.info('quiet request')
  t.same(written(), [])
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(written(), ['quiet request'], 'written by the periodic flush')

  log.info('last request')
  destination.flushSync()
  t.same(written(), ['quiet request', 'last request'], 'flushSync writes what is held')
})
