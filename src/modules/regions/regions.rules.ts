import { ApiError } from '../../errors/catalogue.ts'
import type { regionLevels } from '../../db/schema.ts'

export type RegionLevel = typeof regionLevels[number]

export const NATIONAL_ROOT = '100000'

const rank: Record<RegionLevel, number> = { national: 0, province: 1, prefecture: 2, county: 3, township: 4 }

/**
 * The level a division code denotes (GB/T 2260 layout): XX0000 province, XXYY00
 * prefecture, XXYYZZ county, nine digits township; 100000 is the national root.
 */
export function levelOfCode (code: string): RegionLevel {
  if (code === NATIONAL_ROOT) return 'national'
  if (code.length === 9) return 'township'
  if (code.endsWith('0000')) return 'province'
  if (code.endsWith('00')) return 'prefecture'
  return 'county'
}

/** The part of a code every descendant's code starts with. */
export function codePrefix (code: string, level: RegionLevel): string {
  switch (level) {
    case 'national': return ''
    case 'province': return code.slice(0, 2)
    case 'prefecture': return code.slice(0, 4)
    default: return code
  }
}

export function assertLevelMatchesCode (code: string, level: RegionLevel): void {
  const expected = levelOfCode(code)
  if (expected !== level) {
    throw new ApiError('REGION_LEVEL_MISMATCH', `Code ${code} denotes a ${expected}-level division, not ${level}.`, {
      errors: [{ field: '/body/level', code: 'level-mismatch', message: `must be ${expected} for code ${code}` }]
    })
  }
}

/**
 * A parent sits at a higher level (normally one up; a province-administered county sits
 * directly under its province) and its code is a prefix-compatible ancestor. Because
 * levels strictly decrease along every chain, no cycle can form.
 */
export function assertValidParent (
  child: { code: string, level: RegionLevel },
  parent: { code: string, level: RegionLevel } | undefined,
  parentCode: string | null
): void {
  const fail = (message: string): never => {
    throw new ApiError('INVALID_REGION_PARENT', message, {
      errors: [{ field: '/body/parentCode', code: 'invalid-parent', message }]
    })
  }
  if (child.level === 'national') {
    if (parentCode !== null) fail('The national root has no parent.')
    return
  }
  if (parentCode === null) return fail(`A ${child.level} needs a parentCode.`)
  if (parentCode === child.code) fail('A region cannot be its own parent.')
  if (parent === undefined) {
    throw new ApiError('REFERENCE_NOT_FOUND', `Parent region ${parentCode} does not exist.`, {
      errors: [{ field: '/body/parentCode', code: 'not-found', message: `no region has code ${parentCode}` }]
    })
  }
  if (rank[parent.level] >= rank[child.level]) {
    fail(`A ${child.level} cannot sit under a ${parent.level}: the parent must be at a higher level.`)
  }
  if (!child.code.startsWith(codePrefix(parent.code, parent.level))) {
    fail(`Code ${child.code} does not lie under ${parent.code}: its code must start with ${codePrefix(parent.code, parent.level)}.`)
  }
}
