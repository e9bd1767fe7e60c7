import t from 'tap'
import { isUnavailable } from '../src/db/errors.ts'

// What the fault tests (test/faults) meet when PostgreSQL goes away, wrapped as drizzle
// wraps it: all of it is "unavailable" (503), and nothing else is.
const pgError = (code: string, message = 'server error') => Object.assign(new Error(message), { code })
const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: rollback\nparams: '), { cause })

t.test('faults that mean the database is away', async (t) => {
  for (const err of [
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P02', 'terminating connection due to crash of another server process'),
    pgError('57P03', 'the database system is starting up'),
    pgError('08006', 'connection failure'),
    pgError('53300', 'sorry, too many clients already'),
    pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
    pgError('ECONNRESET', 'read ECONNRESET'),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('Client was closed and is not queryable'),
    new Error('timeout exceeded when trying to connect')
  ]) {
    t.ok(isUnavailable(err), err.message)
    t.ok(isUnavailable(wrapped(err)), `${err.message} (wrapped)`)
  }
})

t.test('faults that are not about availability', async (t) => {
  for (const err of [pgError('23505', 'duplicate key'), pgError('22P02', 'invalid input syntax'), new Error('boom'), undefined, null]) {
    t.notOk(isUnavailable(err), String(err))
    t.notOk(isUnavailable(wrapped(err)), `${String(err)} (wrapped)`)
  }
})
