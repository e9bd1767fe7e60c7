import { Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import iconv from 'iconv-lite'
import t from 'tap'
import { CSV_COLUMNS } from '../src/modules/values/values.csv.ts'
import { exactNumber, xlsxExport } from '../src/modules/values/values.workbook.ts'
import { numberText } from '../src/modules/values/values.xlsx.ts'
import { build, call, collect, createIndicator, createPlan, createRegions, json } from './helper.ts'

/** Files as agencies send them: encodings, workbooks, numbers as clerks type them, hostile cells. */

const app = await build(t)
await createRegions(app)
await createIndicator(app) // hardship-subsidy-coverage, unit percent, 0..100
await createIndicator(app, { code: 'new-employment', name: '新增残疾人就业人数', unit: 'persons', aggregation: 'sum', min: 0, max: null })
await createIndicator(app, { code: 'net-change', name: '净变动', unit: 'persons', aggregation: 'sum', min: null, max: null })
await createIndicator(app, { code: 'subsidy-amount', name: '补贴金额', unit: 'cny-10k', aggregation: 'sum', min: 0, max: null })
await createPlan(app)

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const HEADER = 'kind,regionCode,indicatorCode,year,value,note'
const CSV_HEADER = CSV_COLUMNS.join(',')
const importFile = (payload: Buffer | string, contentType = 'text/csv', query = '') =>
  app.inject({ method: 'POST', url: `/v1/values/import${query}`, headers: { 'content-type': contentType }, payload })
const stored = (query: string) => collect(app, `/v1/values?${query}`)

async function workbook (rows: unknown[][], style?: (sheet: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const book = new ExcelJS.Workbook()
  const sheet = book.addWorksheet('第一页')
  for (const row of rows) sheet.addRow(row)
  style?.(sheet)
  book.addWorksheet('ignored').addRow(['not', 'read'])
  return Buffer.from(await book.xlsx.writeBuffer())
}

t.test('GBK (GB18030) CSV: detected, or named by charset; the Chinese text stored exactly', async (t) => {
  const text = `${HEADER}\nactual,331003,new-employment,2001,5,嵊州市残联·统计（含农村）\n`
  const detected = await importFile(iconv.encode(text, 'gbk'))
  t.equal(detected.statusCode, 200, detected.body)
  t.match(json(detected), { created: 1 })
  t.match(await stored('region=331003&indicator=new-employment&from=2001&to=2001'), [{ note: '嵊州市残联·统计（含农村）' }])

  const named = await importFile(iconv.encode(text.replace('2001', '2002').replace('·', '𠀀'), 'gb18030'), 'text/csv; charset=GB18030')
  t.equal(named.statusCode, 200, named.body)
  t.match(await stored('region=331003&indicator=new-employment&from=2002&to=2002'), [{ note: '嵊州市残联𠀀统计（含农村）' }], 'a four-byte GB18030 character')

  // Long ASCII before the first Chinese character: detection is not fooled by the prefix.
  const late = `${HEADER}\n${Array.from({ length: 60 }, (_, i) => `actual,331004,new-employment,${1950 + i},${i},${'plain ascii '.repeat(10)}`).join('\n')}\nactual,331004,new-employment,2020,1,中文在后\n`
  const res = await importFile(iconv.encode(late, 'gbk'))
  t.equal(res.statusCode, 200, res.body)
  t.match(await stored('region=331004&indicator=new-employment&from=2020&to=2020'), [{ note: '中文在后' }])
})

t.test('UTF-16 with a BOM (LE and BE), and UTF-8 with a BOM', async (t) => {
  const text = (year: number) => `\uFEFF${HEADER}\nactual,331003,new-employment,${year},7,统一编码\n`
  const le = await importFile(Buffer.from(text(2004), 'utf16le'))
  t.equal(le.statusCode, 200, le.body)
  const be = Buffer.from(text(2005), 'utf16le').swap16()
  t.equal((await importFile(be, 'text/csv; charset=utf-16')).statusCode, 200, 'the BOM decides the byte order')
  t.equal((await importFile(Buffer.from(text(2006), 'utf8'))).statusCode, 200)
  const rows = await stored('region=331003&indicator=new-employment&from=2004&to=2006')
  t.same(rows.map((r) => [r.year, r.note]), [[2004, '统一编码'], [2005, '统一编码'], [2006, '统一编码']])
})

t.test('bytes valid in no accepted encoding: 400 that says so, nothing written', async (t) => {
  const before = (await stored('breakdown=*')).length
  const bad = Buffer.concat([Buffer.from(`${HEADER}\nactual,331003,new-employment,2007,1,`), Buffer.from([0xFF, 0xFE, 0xFF, 0x80]), Buffer.from('\n')])
  const res = await importFile(bad)
  t.equal(res.statusCode, 400)
  t.match(json(res), { code: 'VALIDATION_FAILED', detail: /valid in none of the accepted encodings/, errors: [{ field: '/body', code: 'encoding' }] })

  const notUtf8 = await importFile(iconv.encode(`${HEADER}\nactual,331003,new-employment,2007,1,中文\n`, 'gbk'), 'text/csv; charset=utf-8')
  t.equal(notUtf8.statusCode, 400, 'a declared charset is held to')
  t.match(json(notUtf8).detail, /not valid UTF-8/)

  // UTF-8 first, then a GBK byte sequence further on: refused, never stored garbled.
  const mixed = `${HEADER}\nactual,331003,new-employment,2008,1,${'中文'.repeat(2000)}\n`
  const res2 = await importFile(Buffer.concat([Buffer.from(mixed), iconv.encode('actual,331003,new-employment,2009,1,中文\n', 'gbk')]))
  t.equal(res2.statusCode, 400)
  t.equal((await stored('breakdown=*')).length, before, 'nothing written')

  const unknown = await importFile(`${HEADER}\n`, 'text/csv; charset=big5')
  t.equal(unknown.statusCode, 415)
  t.match(json(unknown).detail, /charset=big5/)
})

t.test('415 lists the media types the import accepts', async (t) => {
  for (const type of ['application/xml', 'text/plain', 'application/merge-patch+json']) {
    const res = await importFile('{}', type)
    t.equal(res.statusCode, 415, type)
    t.same(json(res).accept, ['application/json', 'text/csv', XLSX])
    t.equal(res.headers['accept-post'], `application/json, text/csv, ${XLSX}`)
    t.match(json(res).detail, /text\/csv/)
  }
})

t.test('numbers as agencies write them: accepted exactly, or refused with a message a clerk understands', async (t) => {
  const cases: Array<[string, string, string | RegExp]> = [
    ['new-employment', '58,200', '58200'],
    ['new-employment', '1,234,567.5', '1234567.5'],
    ['new-employment', '１２', '12'],
    ['new-employment', '５８，２００．５', '58200.5'],
    ['new-employment', ' 12 ', '12'],
    ['new-employment', '\u300012\u3000', '12'],
    ['hardship-subsidy-coverage', '99%', '99'],
    ['hardship-subsidy-coverage', '99.5 ％', '99.5'],
    ['new-employment', '3.5万', '35000'],
    ['new-employment', '1.06亿', '106000000'],
    ['new-employment', '0.000001万', '0.01'],
    ['new-employment', '012', '12'],
    ['new-employment', '98.50', '98.50'],
    ['new-employment', '58,20', /comma may only separate groups of three digits/],
    ['new-employment', '99%', /is a percentage, but value is counted in persons/],
    ['subsidy-amount', '3.5万', /counted in 万元 already/],
    ['new-employment', '约12', /is not a number/],
    ['new-employment', '1e3', /is not a number/]
  ]
  const csv = ['kind,regionCode,indicatorCode,year,value', ...cases.map(([indicator, cell], i) => `actual,330683,${indicator},${2030 + i},"${cell}"`)].join('\n')
  const res = await importFile(csv, 'text/csv', '?mode=partial')
  t.equal(res.statusCode, 200, res.body)
  const errors = json(res).errors as Array<{ row: number, field: string, code: string, message: string }>
  const values = await stored('region=330683&from=2030&to=2099')
  for (const [i, [indicator, cell, expected]] of cases.entries()) {
    if (typeof expected === 'string') {
      t.match(values.find((v) => v.year === 2030 + i && v.indicatorCode === indicator), { value: expected }, `${cell} → ${expected}`)
    } else {
      t.match(errors.find((e) => e.row === i + 1), { field: '/value', code: 'number', message: expected }, `${cell} refused`)
    }
  }
  t.equal(errors.length, cases.filter((c) => typeof c[2] !== 'string').length, 'one message per refused cell, no raw pattern')

  const jsonBody = await call(app, 'POST', '/v1/values/import', { values: [{ kind: 'actual', regionCode: '330683', indicatorCode: 'new-employment', year: 1900, value: '58,200' }] })
  t.equal(jsonBody.statusCode, 422, 'JSON bodies stay strict')
})

t.test('a NUL character: 400 for CSV and workbooks alike (as for JSON), nothing written', async (t) => {
  const before = (await stored('breakdown=*')).length
  const csv = await importFile(`${HEADER}\nactual,331003,new-employment,2010,1,a\u0000b\n`)
  t.equal(csv.statusCode, 400)
  t.match(json(csv), { code: 'VALIDATION_FAILED', errors: [{ field: '/body/1/note', code: 'text' }] })
  const code = await importFile(`${HEADER}\nactual,331003\u0000,new-employment,2010,1,\n`)
  t.equal(code.statusCode, 400, 'in a code too')
  const viaJson = await call(app, 'POST', '/v1/values/import', { values: [{ kind: 'actual', regionCode: '331003', indicatorCode: 'new-employment', year: 2010, value: 1, note: 'a\u0000b' }] })
  t.equal(viaJson.statusCode, 400, 'the JSON rule')
  // Excel writes a NUL in a cell as the escape _x0000_.
  const book = await workbook([HEADER.split(','), ['actual', '331003', 'new-employment', 2010, 1, 'a_x0000_b']])
  const xlsx = await importFile(book, XLSX)
  t.equal(xlsx.statusCode, 400, xlsx.body)
  t.match(json(xlsx), { errors: [{ field: '/body/1/note', code: 'text' }] })
  t.equal((await stored('breakdown=*')).length, before, 'nothing written')
})

t.test('workbook import: the first sheet, numbers and dates read exactly', async (t) => {
  const book = await workbook([
    ['kind', 'regionCode', 'indicatorCode', 'year', 'value', 'asOf', 'note', 'numerator', 'denominator'],
    ['actual', '331003', 'new-employment', 2011, 0.1, new Date(Date.UTC(2011, 8, 30)), '小数', null, null],
    ['actual', '331003', 'hardship-subsidy-coverage', 2011, 0.995, null, '百分比格式', 995, 1000],
    ['actual', '331003', 'new-employment', 2012, '58,200', null, '文本格式的数字', null, null],
    [],
    ['actual', '331003', 'new-employment', 2013, { formula: '1+2', result: 3 }, null, '公式', null, null]
  ], (sheet) => {
    sheet.getCell('F2').numFmt = 'yyyy-mm-dd'
    sheet.getCell('E3').numFmt = '0.0%'
  })
  const res = await importFile(book, XLSX)
  t.equal(res.statusCode, 200, res.body)
  t.match(json(res), { received: 4, created: 4 })
  const rows = await stored('region=331003&from=2011&to=2013')
  t.match(rows.find((r) => r.year === 2011 && r.indicatorCode === 'new-employment'), { value: '0.1', asOf: '2011-09-30' })
  t.match(rows.find((r) => r.indicatorCode === 'hardship-subsidy-coverage'), { value: '99.5', numerator: '995' })
  t.match(rows.find((r) => r.year === 2012), { value: '58200' })
  t.match(rows.find((r) => r.year === 2013), { value: '3' })

  const inexact = await importFile(await workbook([['kind', 'regionCode', 'indicatorCode', 'year', 'value'], ['actual', '331003', 'new-employment', 2014, 0.1 + 0.2]]), XLSX)
  t.equal(inexact.statusCode, 400)
  t.match(json(inexact), { errors: [{ field: '/body/1/value', code: 'cell' }], detail: /more digits than a spreadsheet keeps/ })

  const garbage = await importFile(Buffer.from('PK\u0003\u0004 not a zip'), XLSX)
  t.equal(garbage.statusCode, 400)
  t.match(json(garbage).detail, /not a readable \.xlsx workbook/)
})

t.test('exports: formulas neutralised, BOM on request, workbook; both import back unchanged', async (t) => {
  const hostile = ['=1+2', '+SUM(A1)', '-2+3+cmd|\' /C calc\'!A0', '@SUM(1)', '\tTab', '\rCR', '\'already quoted', '\'=x', 'plain', 'a_x0041_b', '行1\r\n行2']
  const values = hostile.map((note, i) => ({ kind: 'actual', regionCode: '330683001', indicatorCode: 'net-change', year: 1950 + i, value: i === 0 ? '-0.5' : String(i * 1000.25), note, source: note }))
  values.push({ kind: 'actual', regionCode: '330683001', indicatorCode: 'net-change', year: 1970, value: '123456789012345.123456', asOf: '1970-06-30' } as never)
  const imported = await call(app, 'POST', '/v1/values/import', { values })
  t.equal(imported.statusCode, 200, imported.body)
  const query = 'region=330683001&from=1950&to=1970'

  const csv = await app.inject(`/v1/values?${query}&format=csv`)
  t.equal(csv.statusCode, 200)
  for (const line of csv.body.split('\n').slice(1)) {
    const cells = line.split(',')
    t.notOk(/^[=+@\t\r-]/.test(cells[17] ?? ''), 'no source cell starts as a formula')
  }
  t.match(csv.body, /,'=1\+2,'=1\+2\n/)
  t.match(csv.body, /,''=x,''=x\n/, 'an apostrophe that was there is kept behind the added one')
  t.match(csv.body, /,-0.5,/, 'a negative number is a number')
  t.notOk(csv.body.startsWith('\uFEFF'))
  const back = await importFile(csv.body)
  t.match(json(back), { received: values.length, unchanged: values.length }, back.body)

  const withBom = await app.inject(`/v1/values?${query}&format=csv&bom=true`)
  t.same([...withBom.rawPayload.subarray(0, 3)], [0xEF, 0xBB, 0xBF])
  t.equal(withBom.rawPayload.subarray(3).toString(), csv.body)

  const xlsx = await app.inject(`/v1/values?${query}&format=xlsx`)
  t.equal(xlsx.statusCode, 200)
  t.equal(xlsx.headers['content-type'], XLSX)
  const viaAccept = await app.inject({ url: `/v1/values?${query}`, headers: { accept: XLSX } })
  t.equal(viaAccept.headers['content-type'], XLSX)
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(xlsx.rawPayload as never)
  const sheet = book.worksheets[0]!
  t.equal(sheet.getCell('A1').value, 'kind')
  t.equal(sheet.getRow(2).getCell(8).value, -0.5, 'numbers are numbers')
  t.equal(sheet.getRow(2).getCell(19).value, '\'=1+2', 'text is neutralised in the workbook too')
  const back2 = await importFile(xlsx.rawPayload, XLSX)
  t.match(json(back2), { received: values.length, unchanged: values.length }, back2.body)
  const after = await stored(query)
  t.same(after.map((v) => v.note), [...hostile, null], 'every text as it was')
  t.equal(after.at(-1).value, '123456789012345.123456')

  const latest = await app.inject(`/v1/values?${query}&format=xlsx&latest=true`)
  t.equal(latest.statusCode, 400)
})

t.test('the workbook export reads the database\'s CSV only as fast as the workbook is read, and lets go of it when dropped', async (t) => {
  // An endless CSV: only backpressure keeps the export from reading it all.
  let pulled = 0
  const row = 'actual,,330683,new-employment,2014,2014,,5,final,,,2014-12-31,,,,,,来源,备注\n'
  const csv = new Readable({
    read () {
      const chunk = pulled === 0 ? `${CSV_HEADER}\n${row.repeat(200)}` : row.repeat(200)
      pulled += Buffer.byteLength(chunk)
      this.push(chunk)
    }
  })
  const workbook = xlsxExport(csv)
  const first = await new Promise<Buffer>((resolve) => workbook.once('data', resolve))
  t.ok(first.length > 0, 'the workbook starts at once')
  workbook.pause()
  // Nobody reads the workbook now: the reading of the CSV stops once the buffers between are full.
  for (let still = 0, last = -1; still < 3;) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    still = pulled === last ? still + 1 : 0
    last = pulled
    if (pulled >= 2 << 20) break
  }
  t.ok(pulled < 2 << 20, `at most a few buffers of the CSV are read ahead (${pulled} bytes)`)
  workbook.destroy()
  await new Promise((resolve) => csv.once('close', resolve))
  t.ok(csv.destroyed, 'the CSV (and with it its database connection) is let go when the client goes away')
})

t.test('a selection larger than a sheet breaks the workbook off instead of ending it with values missing', async (t) => {
  const row = 'actual,,330683,new-employment,2014,2014,,5,final,,,2014-12-31,,,,,,来源,备注\n'
  const drain = (stream: Readable) => new Promise<Error | undefined>((resolve) => {
    stream.on('error', resolve)
    stream.on('end', () => resolve(undefined))
    stream.resume()
  })
  // A sheet of 10 rows: the header and 9 values.
  t.equal(await drain(xlsxExport(Readable.from([`${CSV_HEADER}\n${row.repeat(9)}`]), new Date(), 10)), undefined, 'a full sheet is a workbook')
  const over = await drain(xlsxExport(Readable.from([`${CSV_HEADER}\n${row.repeat(10)}`]), new Date(), 10))
  t.match(over?.message, /more values than a sheet holds \(9\)/, 'one value more breaks it off')
})

t.test('the workbook export writes a number cell exactly when the double is the stored decimal', async (t) => {
  const cases = ['0', '-0', '0.0', '1.0', '01', '.5', '5.', '+1', ' 1', '1e5', '0.1', '0.30000000000000004', '-0.5', '0.0000001',
    '123456789012345', '1234567890123456', '12345678901234.5', '0.00000000000001', '9007199254740993', '1000000000000000000000']
  let seed = 7
  const random = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  const digits = (n: number) => Array.from({ length: n }, () => String(random(10))).join('')
  for (let i = 0; i < 20_000; i++) cases.push(`${random(2) === 0 ? '-' : ''}${random(3) === 0 ? '0' : digits(1 + random(18))}${random(2) === 0 ? '' : `.${digits(1 + random(18))}`}`)
  const wrong = cases.filter((text) => exactNumber(text) !== (numberText(Number(text)) === text))
  t.same(wrong, [], 'the shortcut for plain decimals agrees with numberText')
})
