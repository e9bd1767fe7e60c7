import { once } from 'node:events'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'

/** A Redis connection the service keeps for the life of the app (REDIS_URL). */
export interface RedisConnection {
  client: Redis
  /** True while commands can be sent. */
  connected: () => boolean
  /** Closes the connection (pending replies first when Redis still answers). */
  close: () => Promise<void>
}

/**
 * Longest wait for one Redis command. Redis answers in well under a millisecond; a server
 * that takes longer is treated as away, so a request is held this long at most.
 */
const COMMAND_TIMEOUT_MS = 500

/** How long the start waits for a first connection before going on without one. */
const FIRST_CONNECTION_MS = 2000

/**
 * Connects to Redis. The service must outlive Redis: commands fail at once while it is
 * away (no offline queue, no retries: the caller decides what a failure means), the client
 * reconnects on its own with backoff, and its errors are logged (once per outage, not once
 * per reconnection attempt) instead of being thrown, so no Redis fault ends the process.
 */
export async function connectRedis (url: string, log: FastifyBaseLogger): Promise<RedisConnection> {
  // Loaded only where REDIS_URL is set: a start without it does not parse the client.
  const { Redis: Client } = await import('ioredis')
  const client = new Client(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: FIRST_CONNECTION_MS
  })
  let down = false
  client.on('ready', () => {
    if (down) log.info('Redis is reachable again')
    down = false
  })
  client.on('error', (err: Error & { code?: string }) => {
    if (down) return
    down = true
    log.warn({ err: { message: err.message, code: err.code } }, 'Redis is unreachable; retrying in the background')
  })

  // A healthy Redis is used from the first request; an unreachable one does not stop the start.
  const ready = once(client, 'ready').then(() => true, () => false)
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), FIRST_CONNECTION_MS) })
  await Promise.race([ready, late]).finally(() => clearTimeout(timer))

  return {
    client,
    connected: () => client.status === 'ready',
    async close () {
      if (client.status === 'end') return
      if (client.status !== 'ready') return client.disconnect()
      await client.quit().catch(() => client.disconnect())
    }
  }
}
