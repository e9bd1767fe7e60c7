import t from 'tap'
import { englishName } from '../src/seed/region-names.ts'
import { build, call, collect, json } from './helper.ts'

t.test('the English name is the pinyin of the proper name and the level word of its suffix', async (t) => {
  t.equal(englishName('黄岩区', 'county'), 'Huangyan District')
  t.equal(englishName('嵊州市', 'county'), 'Shengzhou City', 'a county-level city')
  t.equal(englishName('台州市', 'prefecture'), 'Taizhou City')
  t.equal(englishName('浙江省', 'province'), 'Zhejiang Province')
  t.equal(englishName('重庆市', 'province'), 'Chongqing Municipality', '市 at province level is a municipality; 重 read as chong in 重庆')
  t.equal(englishName('西安市', 'prefecture'), "Xi'an City", 'an apostrophe before a syllable starting with a vowel')
  t.equal(englishName('长阳土家族自治县', 'county'), 'Changyangtujiazu Autonomous County', 'the longest suffix wins')
  t.equal(englishName('沙县区', 'county'), 'Shaxian District', 'only the last generic part is translated')
  t.equal(englishName('剡湖街道', 'township'), 'Yanhu Subdistrict')
  t.equal(englishName('大柴旦行政委员会', 'county'), 'Dachaidanxingzhengweiyuanhui', 'no known suffix: pinyin alone')
  t.equal(englishName('市', 'county'), 'Shi', 'a name that is only a suffix keeps it as the name')
})

t.test('the seed names every region in English, and q finds them by it', async (t) => {
  const app = await build(t, { seed: true })
  const regions = await collect<{ code: string, name: string, nameEn: string | null }>(app, '/v1/regions')
  t.ok(regions.length > 3000, `${regions.length} regions seeded`)
  t.same(regions.filter((r) => r.nameEn === null || r.nameEn === ''), [], 'every seeded region has an English name')

  const find = async (q: string) => json(await call(app, 'GET', `/v1/regions?q=${encodeURIComponent(q)}`)).items
    .map((r: { code: string, nameEn: string }) => `${r.code} ${r.nameEn}`)
  t.same(await find('Huangyan'), ['220112 Shuangyang District', '331003 Huangyan District'], 'a substring (s-huangyan-g)')
  t.same(await find('huangyan district'), ['331003 Huangyan District'], 'case-insensitive')
  t.same(await find('Zhejiang'), ['330000 Zhejiang Province'])
  t.same(await find('Taizhou City'), ['321200 Taizhou City', '331000 Taizhou City'], '泰州 and 台州 read the same in pinyin')
  t.same(await find('Yanhu Subdistrict'), ['330683001 Yanhu Subdistrict'], 'the seeded townships too')
})
