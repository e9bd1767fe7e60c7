import { pinyin } from 'pinyin-pro'
import type { RegionLevel } from '../modules/regions/regions.repository.ts'

/**
 * English names of administrative divisions: the proper name in Hanyu Pinyin, written as
 * one word without tones as GB/T 16159 writes place names (黄岩 -> Huangyan), followed
 * by the English word for the division's generic part (区 -> District). Pinyin comes
 * from `pinyin-pro` (MIT), which reads polyphonic characters from word context
 * (重庆 -> Chongqing, 长沙 -> Changsha), so no name is typed by hand.
 *
 * The generic part is the longest suffix of the Chinese name found in the level's table
 * below; the same suffix reads differently at different levels (市 at province level is
 * a municipality, at prefecture and county level a city). A name with no suffix from its
 * level's table is written in pinyin alone. An apostrophe separates a syllable starting
 * with a, o or e from the one before it, as the pinyin rules require (西安 -> Xi'an).
 */
const SUFFIXES: Record<RegionLevel, Record<string, string>> = {
  national: {},
  province: { 省: 'Province', 自治区: 'Autonomous Region', 市: 'Municipality', 特别行政区: 'Special Administrative Region' },
  prefecture: { 市: 'City', 地区: 'Prefecture', 自治州: 'Autonomous Prefecture', 盟: 'League' },
  county: {
    区: 'District',
    县: 'County',
    市: 'City',
    自治县: 'Autonomous County',
    旗: 'Banner',
    自治旗: 'Autonomous Banner',
    林区: 'Forestry District',
    特区: 'Special District',
    新区: 'New Area',
    矿区: 'Mining District'
  },
  township: {
    街道: 'Subdistrict',
    街道办事处: 'Subdistrict',
    镇: 'Town',
    乡: 'Township',
    民族乡: 'Ethnic Township',
    苏木: 'Sumu',
    民族苏木: 'Ethnic Sumu',
    农场: 'Farm',
    林场: 'Forest Farm'
  }
}

// Longest suffix first, so 自治县 wins over 县 and 街道办事处 over 办事处.
const ORDERED = Object.fromEntries(Object.entries(SUFFIXES).map(([level, table]) =>
  [level, Object.keys(table).sort((a, b) => b.length - a.length)])) as Record<RegionLevel, string[]>

/** A Chinese proper name in pinyin, one capitalised word (Huangyan, Xi'an). */
export function pinyinWord (chinese: string): string {
  const syllables = pinyin(chinese, { toneType: 'none', type: 'array', nonZh: 'consecutive' })
  const word = syllables
    .map((s, i) => (i > 0 && /^[aoe]/.test(s) ? `'${s}` : s))
    .join('')
    .replace(/\s+/g, '')
  return word.charAt(0).toUpperCase() + word.slice(1)
}

/** The English name of a division of `level` named `name` (黄岩区 -> Huangyan District). */
export function englishName (name: string, level: RegionLevel): string {
  const suffix = ORDERED[level].find((s) => name.endsWith(s) && name.length > s.length)
  if (suffix === undefined) return pinyinWord(name)
  return `${pinyinWord(name.slice(0, -suffix.length))} ${SUFFIXES[level][suffix]}`
}
