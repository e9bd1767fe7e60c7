// indicator-registry: the command-line tool of the registry (bin/indicator-registry.js).
// Every call to the service goes through the typed client (src/client), so a change of the
// API that the CLI does not follow breaks the typecheck.
import { readFileSync } from 'node:fs'
import { Command, CommanderError } from 'commander'
import { fromRoot } from '../paths.ts'
import { CliError, EXIT, exitCodesHelp } from './exit-codes.ts'
import { exportCommand } from './export.ts'
import { pullCommand } from './pull.ts'
import { pushCommand } from './push.ts'
import { tokenCommand } from './token.ts'

let exitCode: number = EXIT.OK
const { version } = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { version: string }

/** Runs a command's work and turns its outcome into the process's exit code. */
async function run (fn: () => Promise<number>): Promise<void> {
  try {
    exitCode = await fn()
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`indicator-registry: ${err.message}\n`)
      exitCode = err.exitCode
    } else if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      // The reader of our output went away (e.g. `| head`): nothing was saved (no cursor moved).
      exitCode = EXIT.INTERNAL
    } else {
      process.stderr.write(`indicator-registry: unexpected error: ${(err as Error).stack ?? String(err)}\n`)
      exitCode = EXIT.INTERNAL
    }
  }
}

const program = new Command('indicator-registry')
  .description('Command-line tool of the disability-services indicator registry: push yearly values, pull the changes feed, export values as CSV and manage access tokens. Every command talks to the service at --url (REGISTRY_URL, default http://127.0.0.1:3000) with the token in --token (REGISTRY_TOKEN). Guide: docs/integration.md.')
  .version(version, '-V, --version')
  .showHelpAfterError('(add --help for usage)')
  .addCommand(pushCommand(run))
  .addCommand(pullCommand(run))
  .addCommand(exportCommand(run))
  .addCommand(tokenCommand(run))
  .addHelpText('after', `
Environment:
  REGISTRY_URL     where the service runs (as --url)
  REGISTRY_TOKEN   bearer token (as --token)
  DATABASE_URL, DATA_DIR   token create --local only: the database the server uses
${exitCodesHelp}`)

// Usage errors exit with 2 (not commander's 1), so a cron job can tell them from the rest.
// Help asked for (--help, help, --version) exits 0; help shown because a command is missing, 2.
const exitOverride = (err: CommanderError) => {
  throw new CommanderError(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE, err.code, err.message)
}
const applyOverride = (command: Command) => {
  command.exitOverride(exitOverride)
  for (const sub of command.commands) applyOverride(sub)
}
applyOverride(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (!(err instanceof CommanderError)) throw err
  exitCode = err.exitCode
}
process.exitCode = exitCode
