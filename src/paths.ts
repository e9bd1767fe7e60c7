import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The package's root folder (where package.json, migrations/ and seed/ are), found by
 * walking up from this module. Works from src/ through tsx and from the bundle `npm start`
 * runs (.build/), which live at different depths.
 */
function findRoot (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`no package root above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

export const packageRoot = findRoot()

/** A path inside the package, e.g. `fromRoot('migrations')`. */
export const fromRoot = (...parts: string[]): string => path.join(packageRoot, ...parts)
