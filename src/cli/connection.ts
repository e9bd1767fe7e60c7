import { Option, InvalidArgumentError, type Command } from 'commander'
import { createRegistryClient, normaliseBaseUrl, type RegistryClient } from '../client/index.ts'
import { CliError, EXIT } from './exit-codes.ts'

export const DEFAULT_URL = 'http://127.0.0.1:3000'

export interface ConnectionOptions {
  url: string
  token?: string
  retries: number
  timeout: number
}

export function integer (name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const n = Number(raw)
    if (!/^-?[0-9]+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}.`)
    }
    return n
  }
}

/** The options every command that talks to the service takes. */
export function withConnection (command: Command, { retries = 3 } = {}): Command {
  return command
    .addOption(new Option('--url <url>', 'where the service runs (a trailing /v1 is fine)').env('REGISTRY_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'bearer token (irt_...); prefer the environment variable, the command line is visible to other users').env('REGISTRY_TOKEN'))
    .addOption(new Option('--retries <n>', 'retries after a network error, 429, 502, 503 or 504 (with backoff; Retry-After honoured)').argParser(integer('--retries', 0, 20)).default(retries))
    .addOption(new Option('--timeout <seconds>', 'give up on one request after this long').argParser(integer('--timeout', 1, 3600)).default(120))
}

const RETRYABLE = new Set([429, 502, 503, 504])
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waiting time before attempt `attempt + 1`: Retry-After when the server sent one, else exponential backoff. */
function delayFor (attempt: number, response?: Response): number {
  const header = response?.headers.get('retry-after')
  const seconds = header != null && /^[0-9]+$/.test(header) ? Number(header) : undefined
  return Math.min(60_000, seconds !== undefined ? seconds * 1000 : 500 * 2 ** attempt)
}

/**
 * fetch with a timeout per attempt and retries of transient failures. Retrying is safe for
 * what the CLI sends: reads, and imports carrying an Idempotency-Key (a retry replays).
 */
export function retryingFetch (retries: number, timeoutSeconds: number): (request: Request) => Promise<Response> {
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= retries
      const attemptRequest = last ? request : request.clone()
      let response: Response | undefined
      try {
        response = await fetch(attemptRequest, { signal: AbortSignal.timeout(timeoutSeconds * 1000) })
      } catch (err) {
        if (last) throw err
      }
      if (response !== undefined && (last || !RETRYABLE.has(response.status))) return response
      // Release the connection of an answer we do not use before waiting.
      await response?.body?.cancel().catch(() => {})
      await sleep(delayFor(attempt, response))
    }
  }
}

/** A network-level failure (no HTTP answer) as a CLI error. */
export function networkError (url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string, message?: string } }).cause
  const reason = (err as Error).name === 'TimeoutError'
    ? 'timed out'
    : cause?.code ?? cause?.message ?? (err as Error).message
  return new CliError(EXIT.UNAVAILABLE, `cannot reach the service at ${url}: ${reason}`)
}

export interface Connection {
  api: RegistryClient
  url: string
  /** Runs one API call; a network failure becomes exit code 5. */
  call: <T>(fn: (api: RegistryClient) => Promise<T>) => Promise<T>
}

export function connect (options: ConnectionOptions): Connection {
  const url = normaliseBaseUrl(options.url)
  if (!/^https?:\/\/[^/]/.test(url)) throw new CliError(EXIT.USAGE, `--url must be an http(s) URL, not ${JSON.stringify(options.url)}`)
  // A token is one line of printable text; anything else (e.g. `$(npm run token:create)`
  // without -s, which captures npm's banner too) cannot go into a header.
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new CliError(EXIT.USAGE, '--token / REGISTRY_TOKEN must be one token (irt_...) without spaces or line breaks; did a command print more than the token?')
  }
  const api = createRegistryClient({
    baseUrl: url,
    token: options.token,
    fetch: retryingFetch(options.retries, options.timeout),
    headers: { 'user-agent': 'indicator-registry-cli' }
  })
  return {
    api,
    url,
    async call (fn) {
      try {
        return await fn(api)
      } catch (err) {
        if (err instanceof CliError) throw err
        const name = (err as Error).name
        const fetchFailed = err instanceof TypeError && (err.message === 'fetch failed' || err.cause !== undefined)
        if (fetchFailed || name === 'TimeoutError' || name === 'AbortError') throw networkError(url, err)
        throw err
      }
    }
  }
}
