import type { PGlite } from '@electric-sql/pglite'

/**
 * Settings of the embedded PostgreSQL (PGlite) on top of PGlite's own start parameters.
 *
 * `shared_buffers`: PGlite's initdb writes PostgreSQL's server default, 128 MB, and
 * PostgreSQL clears that whole buffer pool at every start: in WebAssembly memory, so it is
 * resident for the life of the process. The embedded database is one process with one
 * connection, and its files are read through the operating system's page cache anyway; at
 * 32 MB (4,096 pages, several times the seed dataset) a reopening takes some 60-150 ms
 * less and the process holds about 105 MB less (measured here: PGlite alone reopening a
 * folder 0.44-0.52 s and 258 MB RSS at 128 MB, 0.41-0.45 s and 151-154 MB at 32 MB).
 */
export const EMBEDDED_SETTINGS: readonly string[] = ['-c', 'shared_buffers=32MB']

/**
 * Opens (or creates) the embedded database in `dir` with EMBEDDED_SETTINGS. The PGlite
 * class is passed in: it is loaded only on the embedded path (its module alone costs some
 * 40 MB), and src/server.ts loads it before anything else.
 */
export function createEmbedded (pglite: typeof PGlite, dir: string): Promise<PGlite> {
  return pglite.create(dir, { startParams: [...pglite.defaultStartParams, ...EMBEDDED_SETTINGS] })
}
