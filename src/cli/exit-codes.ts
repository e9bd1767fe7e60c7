/**
 * Exit codes a cron job can act on. They are part of the CLI's contract (documented in
 * `--help` and docs/integration.md): keep them stable.
 */
export const EXIT = {
  /** Everything done. */
  OK: 0,
  /** An unexpected fault in the tool itself (a bug: please report it). */
  INTERNAL: 1,
  /** Bad command line or unreadable input file: fix the command. */
  USAGE: 2,
  /** The server refused data: rejected rows (see FILE.rejected.csv) or another 4xx answer. */
  REJECTED: 3,
  /** Authentication or authorization failed (401/403): check the token and its role/region. */
  AUTH: 4,
  /** The server could not be reached or failed (network error, timeout, 5xx, 429): retry later. */
  UNAVAILABLE: 5
} as const

export type ExitCode = typeof EXIT[keyof typeof EXIT]

export const exitCodesHelp = `
Exit codes:
  0  success
  1  unexpected error in the tool (a bug)
  2  usage error: bad options or arguments, unreadable input file
  3  rejected: some rows (or the request) were refused by the server; nothing to retry
  4  authentication or authorization failed (401/403): check --token and its role/region
  5  server or network failure (unreachable, timeout, 5xx, 429): safe to retry later`

/** Help text from source lines: lines join into paragraphs (commander wraps them), '' separates paragraphs. */
export function paragraphs (lines: string[]): string {
  return lines.join('\n').split(/\n\n/).map((p) => p.replace(/\n/g, ' ')).join('\n\n')
}

/** An error that ends the command with a chosen exit code and a message for stderr. */
export class CliError extends Error {
  readonly exitCode: ExitCode
  constructor (exitCode: ExitCode, message: string) {
    super(message)
    this.exitCode = exitCode
  }
}

/** The exit code for an HTTP status the server answered with. */
export function exitCodeForStatus (status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.AUTH
  if (status === 429 || status >= 500) return EXIT.UNAVAILABLE
  if (status >= 400) return EXIT.REJECTED
  return EXIT.OK
}

/** A CliError from a non-2xx answer, with the problem's code and detail when it has them. */
export function problemError (what: string, response: Response, error: unknown): CliError {
  const problem = (typeof error === 'object' && error !== null ? error : {}) as { code?: string, detail?: string, errors?: Array<{ field?: string, message?: string }> }
  const detail = problem.detail ?? (typeof error === 'string' && error !== '' ? error.slice(0, 300) : response.statusText)
  const fields = (problem.errors ?? []).slice(0, 5).map((e) => `\n  ${e.field ?? ''} ${e.message ?? ''}`.trimEnd()).join('')
  const hint = response.status === 401
    ? '\n  (pass a valid token with --token or REGISTRY_TOKEN)'
    : response.status === 403 ? '\n  (this token lacks the role or region for it)' : ''
  return new CliError(exitCodeForStatus(response.status), `${what}: ${response.status} ${problem.code ?? ''} ${detail}`.replace(/\s+/g, ' ').trim() + fields + hint)
}
