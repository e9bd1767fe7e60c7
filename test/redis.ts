import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

/**
 * The Redis the tests of shared rate limits use: TEST_REDIS_URL, default the local server.
 * Each test writes under a prefix of its own (uniquePrefix), so runs never share counters.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Tap {
  plan: (n: number, comment?: string) => void
  fail: (message: string) => void
}

/**
 * The test Redis's URL, or undefined when it does not answer: the test is then planned as
 * skipped, except in CI (CI=true), where a missing Redis is a failure.
 */
export async function redisOrSkip (t: Tap): Promise<string | undefined> {
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null })
  let cause: Error | undefined
  client.on('error', (err: Error) => { cause ??= err })
  try {
    await client.connect()
    await client.ping()
    return TEST_REDIS_URL
  } catch (err) {
    const message = `no Redis at ${TEST_REDIS_URL} (${(cause ?? err as Error).message}); set TEST_REDIS_URL or start redis-server`
    if (process.env.CI === 'true') t.fail(message)
    else t.plan(0, message)
    return undefined
  } finally {
    client.disconnect()
  }
}

/** A key prefix no other test run uses. */
export function uniquePrefix (): string {
  return `indicator-registry-test:${process.pid}:${randomBytes(4).toString('hex')}:`
}
