#!/usr/bin/env node
// `npm start`: runs the service from one bundled file instead of some 900 TypeScript and
// ES modules loaded through tsx, which take about 2.5 s to load (a restart with data present
// is to answer in about 2 s; PGlite alone needs about 1 s of it).
//
// The bundle (.build/server.mjs, built by esbuild from src/server.ts) is rebuilt when any
// file under src/, package-lock.json or this launcher is newer than it, so an edited
// source is never served stale; a rebuild takes about half a second. Packages that find
// their own files at run time (PGlite's WebAssembly, pino's worker threads, the Swagger UI's
// static assets) stay outside the bundle and load from node_modules as usual.
//
//   node bin/serve.js           build if stale, then serve
//   node bin/serve.js --build   only build (the container image does this at build time)
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outDir = path.join(root, '.build')
const bundle = path.join(outDir, 'server.mjs')

function newestMtime (dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs)
  }
  return newest
}

function isStale () {
  let built
  try {
    built = statSync(bundle).mtimeMs
  } catch {
    return true
  }
  const inputs = Math.max(newestMtime(path.join(root, 'src')), statSync(path.join(root, 'package-lock.json')).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs)
  return inputs > built
}

async function build () {
  const { build } = await import('esbuild')
  mkdirSync(outDir, { recursive: true })
  const result = await build({
    entryPoints: [path.join(root, 'src/server.ts')],
    outfile: bundle,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    // (@fastify/swagger is bundled: its one use of __dirname, reading its own package.json for
    // a default title, is caught, and the document's info is set in src/plugins/openapi.ts.)
    // exceljs (reading workbooks) and ioredis (REDIS_URL) are imported where they are first
    // used and stay outside too, so a start that needs neither does not parse them: with
    // their dependencies they were over a third of the bundle.
    external: ['@electric-sql/pglite', '@fastify/swagger-ui', 'pino', 'pino-pretty', 'thread-stream', 'pg-native', 'exceljs', 'ioredis'],
    // CommonJS packages inside an ES module bundle still call require() for Node's builtins.
    banner: { js: "import { createRequire as __registryRequire } from 'node:module'; const require = __registryRequire(import.meta.url);" }
  })
  // Each file written beside and renamed, the map first: two starts at once never run a
  // half-written bundle.
  const files = [...result.outputFiles].sort((a, b) => Number(b.path.endsWith('.map')) - Number(a.path.endsWith('.map')))
  for (const file of files) {
    const tmp = `${file.path}.${process.pid}.tmp`
    writeFileSync(tmp, file.contents)
    renameSync(tmp, file.path)
  }
}

if (process.argv.includes('--build') || isStale()) await build()
if (!process.argv.includes('--build')) await import(pathToFileURL(bundle).href)
