import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
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

t.test('held lines are written after the flush interval, and by flushSync', async (t) => {
  const { log, destination, written, close } = fileLogger(50)
  t.teardown(close)
  destination.setServing(true)
  log.info('quiet request')
  t.same(written(), [])
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.same(written(), ['quiet request'], 'written by the periodic flush')

  log.info('last request')
  destination.options.stream.flushSync()
  t.same(written(), ['quiet request', 'last request'], 'flushSync writes what is held')

  log.info('flushed request')
  await new Promise<void>((resolve, reject) => log.flush((err) => err ? reject(err) : resolve()))
  t.same(written(), ['quiet request', 'last request', 'flushed request'], 'logger.flush(cb) writes what is held, then calls back')
})

t.test('what is held is written when the process ends, exits or crashes', async (t) => {
  const module = new URL('../src/lib/log-destination.ts', import.meta.url).href
  const run = async (ending: string) => {
    const script = `
      import pino from 'pino'
      import { createLogDestination } from '${module}'
      const destination = createLogDestination()
      const log = pino({ hooks: destination.options.hooks }, destination.options.stream)
      destination.setServing(true)
      log.info('held request line')
      ${ending}`
    const child = promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: path.dirname(new URL(import.meta.url).pathname) })
    const { stdout, stderr, code } = await child.then((r) => ({ ...r, code: 0 }), (err: { stdout: string, stderr: string, code: number }) => err)
    return { lines: stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l).msg as string), stderr, code }
  }
  const [ended, exited, crashed] = await Promise.all([
    run(''),
    run('process.exit(3)'),
    run("throw new Error('boom')")
  ])
  t.same(ended.lines, ['held request line'], 'the event loop ends: written')
  t.same({ lines: exited.lines, code: exited.code }, { lines: ['held request line'], code: 3 }, 'process.exit(): written')
  t.same(crashed.lines, ['held request line'], 'an uncaught exception: written')
  t.equal(crashed.code, 1)
  t.match(crashed.stderr, /boom/)
})

t.test('a closed stdout (EPIPE) stops the logging, not the process', async (t) => {
  // A log collector that goes away must not take the service with it: as pino's own
  // destination does, lines written after EPIPE are dropped and the process carries on.
  const module = new URL('../src/lib/log-destination.ts', import.meta.url).href
  const script = `
    import pino from 'pino'
    import { createLogDestination } from '${module}'
    const destination = createLogDestination()
    const log = pino({ hooks: destination.options.hooks }, destination.options.stream)
    setTimeout(() => {
      log.info('nobody reads this')
      destination.setServing(true)
      for (let i = 0; i < 500; i++) log.info({ i }, 'request line')
      log.warn('nor this')
      process.stderr.write('still running')
    }, 200)`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: path.dirname(new URL(import.meta.url).pathname),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout.destroy() // the reader goes away before the first line
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 0, stderr)
  t.match(stderr, /still running$/)
})
