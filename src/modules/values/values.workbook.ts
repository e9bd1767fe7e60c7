import { PassThrough, pipeline, type Readable } from 'node:stream'
import { parse } from 'csv-parse'
import { ZipFile } from 'yazl'
import { numberText, xstring } from './values.xlsx.ts'

/**
 * The CSV export as an Excel workbook, written while it streams: one sheet, the CSV's
 * header row and rows, in a zip made as it goes (yazl).
 *
 * The sheet's XML is written here rather than by exceljs: exceljs's streaming writer builds
 * a row, cell and value object per cell, an XML writer per row and a buffer per write,
 * which for a million values kept the heap 100-130 MB larger than the CSV export's and took
 * some 70 s of one core. Here a row is one string built from the CSV record, each cell an
 * inline string (no shared-string table), a number or a styled date, so memory stays flat
 * whatever the size, and the database's CSV is read only as fast as the client takes the
 * workbook (every step is a stream pipe).
 *
 * The cells are those values.xlsx.ts reads back: numbers are spreadsheet numbers when the
 * double is exactly the stored decimal (text otherwise), `asOf` is a date, text is the
 * CSV's text with its formulas neutralised alike, so an exported workbook imports back
 * unchanged.
 */

/** Columns written as spreadsheet numbers (when the number is exactly a double). */
const NUMBER_COLUMNS = new Set(['fromYear', 'year', 'value', 'numerator', 'denominator', 'baselineYear', 'baselineValue'])
const DATE_COLUMNS = new Set(['asOf'])

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
const PACKAGE_RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships'
const HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
const SHEET = 'xl/worksheets/sheet1.xml'

/** The parts around the sheet: the least a workbook needs that Excel, LibreOffice and exceljs all open. */
function packageParts (created: Date): Array<[string, string]> {
  return [
    ['[Content_Types].xml', `${HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
      '<Default Extension="xml" ContentType="application/xml"/>' +
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
      `<Override PartName="/${SHEET}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
      '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' +
      '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>' +
      '</Types>'],
    ['_rels/.rels', `${HEAD}<Relationships xmlns="${PACKAGE_RELATIONSHIPS}">` +
      `<Relationship Id="rId1" Type="${RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/>` +
      `<Relationship Id="rId2" Type="${PACKAGE_RELATIONSHIPS}/metadata/core-properties" Target="docProps/core.xml"/>` +
      '</Relationships>'],
    ['docProps/core.xml', `${HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
      'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
      `<dc:title>values</dc:title><dcterms:created xsi:type="dcterms:W3CDTF">${created.toISOString().replace(/\.\d+Z$/, 'Z')}</dcterms:created>` +
      '</cp:coreProperties>'],
    ['xl/workbook.xml', `${HEAD}<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIPS}">` +
      '<bookViews><workbookView/></bookViews><sheets><sheet name="values" sheetId="1" r:id="rId1"/></sheets></workbook>'],
    ['xl/_rels/workbook.xml.rels', `${HEAD}<Relationships xmlns="${PACKAGE_RELATIONSHIPS}">` +
      `<Relationship Id="rId1" Type="${RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>` +
      `<Relationship Id="rId2" Type="${RELATIONSHIPS}/styles" Target="styles.xml"/>` +
      '</Relationships>'],
    // Style 1 (s="1") is the date format of the asOf cells; style 0 the default.
    ['xl/styles.xml', `${HEAD}<styleSheet xmlns="${MAIN}">` +
      '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>' +
      '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>' +
      '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
      '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
      '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>' +
      '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' +
      '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>' +
      '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>' +
      '</styleSheet>']
  ]
}

/** A, B, ... Z, AA, AB, ...: the letters of the 0-based column `i` in a cell reference. */
function columnLetters (i: number): string {
  let letters = ''
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters
  return letters
}

const escapeXml = (text: string) => text.replace(/[&<>]/g, (c) => c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;')

/** A text cell as an inline string; leading or trailing white space is kept (`xml:space`), as typed. */
function textCell (ref: string, text: string): string {
  const space = /^\s|\s$/.test(text) ? ' xml:space="preserve"' : ''
  return `<c r="${ref}" t="inlineStr"><is><t${space}>${escapeXml(xstring(text))}</t></is></c>`
}

/** Days since 1899-12-30, the serial number a spreadsheet (1900 date system) stores a date as. */
const EPOCH_DAYS = 25569
const dateSerial = (text: string) => EPOCH_DAYS + Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10))) / 86_400_000

/** One data row's XML from its CSV record (`kinds` says what each column holds). */
function rowXml (row: number, record: string[], refs: string[], kinds: Array<'number' | 'date' | 'text'>): string {
  let xml = `<row r="${row}">`
  for (let i = 0; i < record.length; i++) {
    const text = record[i]!
    const ref = refs[i]! + row
    const kind = kinds[i]
    if (kind === 'date') {
      // An empty asOf cell keeps the date format too, for a date typed into it later.
      xml += /^\d{4}-\d{2}-\d{2}$/.test(text) ? `<c r="${ref}" s="1"><v>${dateSerial(text)}</v></c>` : text === '' ? `<c r="${ref}" s="1"/>` : textCell(ref, text)
    } else if (text === '') {
      continue
    } else if (kind === 'number' && numberText(Number(text)) === text) {
      xml += `<c r="${ref}"><v>${text}</v></c>`
    } else {
      xml += textCell(ref, text)
    }
  }
  return `${xml}</row>`
}

/** The sheet's XML is handed on in pieces of about this size (a row at a time would cost a stream write per row). */
const PIECE = 64 * 1024

/** The sheet's XML from the CSV records, the first of them the header row. */
async function * sheetXml (records: AsyncIterable<string[]>): AsyncGenerator<string> {
  let piece = `${HEAD}<worksheet xmlns="${MAIN}"><sheetData>`
  let row = 0
  let refs: string[] = []
  let kinds: Array<'number' | 'date' | 'text'> = []
  for await (const record of records) {
    row++
    if (row === 1) {
      refs = record.map((_, i) => columnLetters(i))
      kinds = record.map((column) => NUMBER_COLUMNS.has(column) ? 'number' : DATE_COLUMNS.has(column) ? 'date' : 'text')
      piece += `<row r="1">${record.map((column, i) => textCell(`${refs[i]!}1`, column)).join('')}</row>`
    } else {
      piece += rowXml(row, record, refs, kinds)
    }
    if (piece.length >= PIECE) {
      yield piece
      piece = ''
    }
  }
  yield `${piece}</sheetData></worksheet>`
}

/**
 * The CSV export `csv` (a header row, then the rows as the database wrote them) as a
 * workbook. Destroying the returned stream (the client went away) destroys `csv` too,
 * which gives its database connection back; a failure of `csv` midway destroys the
 * returned stream with it, so the response breaks off instead of ending as a valid file.
 */
export function xlsxExport (csv: Readable, created = new Date()): Readable {
  const zip = new ZipFile()
  const out = zip.outputStream as PassThrough
  const sheet = new PassThrough()
  for (const [name, xml] of packageParts(created)) zip.addBuffer(Buffer.from(xml), name, { mtime: created })
  zip.addReadStream(sheet, SHEET, { mtime: created })
  zip.end()
  pipeline(csv, parse({ bom: true }), sheetXml, sheet, (err) => { if (err) out.destroy(err) })
  zip.on('error', (err: Error) => out.destroy(err))
  out.on('close', () => { if (!out.readableEnded) sheet.destroy() })
  return out
}
