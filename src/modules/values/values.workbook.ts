import { pipeline, Transform, type PassThrough, type Readable, type TransformCallback } from 'node:stream'
import { parse } from 'csv-parse'
import { ZipFile } from 'yazl'
import { numberText, UNWRITABLE, xstring } from './values.xlsx.ts'

/**
 * The CSV export as an Excel workbook, written while it streams: one sheet, the CSV's
 * header row and rows, in a zip made as it goes (yazl).
 *
 * The sheet's XML is written here rather than by exceljs, whose streaming writer builds a
 * row, cell and value object per cell, an XML writer per row and a buffer per write: for a
 * million values it grew the service's memory by some 100 MB and took about 70 s of one
 * core. Here a row is one string made from its CSV record, each cell an inline string (no
 * shared-string table), a number or a styled date, and no object made for a row outlives
 * V8's young generation (see SheetXml), so memory stays flat whatever the size. Every step
 * is a stream pipe, so the database's CSV is read only as fast as the client takes the
 * workbook.
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

/** What a text cell's XML cannot hold as it is: markup, and what xstring rewrites. */
const UNSAFE = new RegExp(`[&<>]|${UNWRITABLE.source}`)
const escapeXml = (text: string) => UNSAFE.test(text) ? xstring(text).replace(/[&<>]/g, (c) => c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;') : text

/** Days since 1899-12-30, the serial number a spreadsheet (1900 date system) stores a date as. */
const EPOCH_DAYS = 25569
const dateSerial = (text: string) => EPOCH_DAYS + Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10))) / 86_400_000
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * Whether `text` is exactly a double: `numberText(Number(text)) === text`, but without making
 * a string of the number (see rowXml) for what an export holds. A plain decimal (no leading
 * zeros, no trailing zeros after the point, not -0) of at most 15 digits is one at once: a
 * double keeps 15 significant decimal digits, and reads back as the shortest of them.
 */
const PLAIN_DECIMAL = /^(?!-0$)-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/
export function exactNumber (text: string): boolean {
  const digits = text.length - (text.startsWith('-') ? 1 : 0) - (text.includes('.') ? 1 : 0)
  return (digits <= 15 && PLAIN_DECIMAL.test(text)) || numberText(Number(text)) === text
}

type Kind = 'number' | 'date' | 'text'

/**
 * Rows of a sheet, the header row included: Excel and LibreOffice stop reading a sheet
 * there, so a workbook with more rows would lose values without a word.
 */
export const SHEET_ROWS = 1_048_576

/** The sheet's XML is handed on in buffers of about this size (a row at a time would cost a stream write per row). */
const PIECE = 64 * 1024

/**
 * The sheet's XML from the CSV records (the first of them the header row), in buffers.
 *
 * A record is written as soon as the parser emits it: records left waiting in a queue
 * (as an async iteration of the parser leaves them) live long enough for V8 to move them
 * into its old generation, which then grows with the export until a full collection.
 */
class SheetXml extends Transform {
  private rows: string[] = [HEAD, `<worksheet xmlns="${MAIN}"><sheetData>`]
  private length = 0
  private row = 0
  private refs: string[] = []
  private kinds: Kind[] = []

  constructor (private readonly sheetRows: number) {
    // A few buffers wait on the readable side, so handing one on does not stop the parser
    // halfway through a chunk of its input (the rest of which would then queue).
    super({ writableObjectMode: true, readableHighWaterMark: 4 * PIECE })
  }

  override _transform (record: string[], _encoding: BufferEncoding, done: TransformCallback): void {
    // Past the sheet's last row the export breaks off (the download fails) rather than end
    // as a workbook that spreadsheets would open with values missing.
    if (this.row === this.sheetRows) {
      done(new Error(`more values than a sheet holds (${this.sheetRows - 1}): export them as CSV or in parts`))
      return
    }
    if (++this.row === 1) {
      this.refs = record.map((_, i) => columnLetters(i))
      this.kinds = record.map((column) => NUMBER_COLUMNS.has(column) ? 'number' : DATE_COLUMNS.has(column) ? 'date' : 'text')
    }
    const xml = this.rowXml(record, this.row === 1 ? [] : this.kinds) // the header row: text
    this.rows.push(xml)
    this.length += xml.length
    if (this.length >= PIECE) this.handOn()
    done()
  }

  override _flush (done: TransformCallback): void {
    this.rows.push('</sheetData></worksheet>')
    this.handOn()
    done()
  }

  /** Numbers as numbers when exact, dates as styled serial numbers, the rest as inline strings; empty cells are left out. */
  private rowXml (record: string[], kinds: Kind[]): string {
    // toFixed, not String(): V8 keeps the strings String() makes of numbers in a cache long
    // enough to move them into its old generation, a million row numbers' worth.
    const row = this.row.toFixed(0)
    let xml = `<row r="${row}">`
    for (let i = 0; i < record.length; i++) {
      const text = record[i]!
      const ref = `${this.refs[i]!}${row}`
      const kind = kinds[i] ?? 'text'
      if (kind === 'date' && DATE.test(text)) {
        xml += `<c r="${ref}" s="1"><v>${dateSerial(text).toFixed(0)}</v></c>`
      } else if (kind === 'date' && text === '') {
        // An empty asOf cell keeps the date format too, for a date typed into it later.
        xml += `<c r="${ref}" s="1"/>`
      } else if (text === '') {
        continue
      } else if (kind === 'number' && exactNumber(text)) {
        xml += `<c r="${ref}"><v>${text}</v></c>`
      } else {
        // Leading or trailing white space is kept (`xml:space`), as typed.
        xml += `<c r="${ref}" t="inlineStr"><is><t${/^\s|\s$/.test(text) ? ' xml:space="preserve"' : ''}>${escapeXml(text)}</t></is></c>`
      }
    }
    return `${xml}</row>`
  }

  private handOn (): void {
    this.push(Buffer.from(this.rows.join('')))
    this.rows = []
    this.length = 0
  }
}

/**
 * The CSV export `csv` (a header row, then the rows as the database wrote them) as a
 * workbook. Destroying the returned stream (the client went away) destroys `csv` too,
 * which gives its database connection back; a failure of `csv` midway destroys the
 * returned stream with it, so the response breaks off instead of ending as a valid file.
 */
export function xlsxExport (csv: Readable, created = new Date(), sheetRows = SHEET_ROWS): Readable {
  const zip = new ZipFile()
  const out = zip.outputStream as PassThrough
  const sheet = new SheetXml(sheetRows)
  for (const [name, xml] of packageParts(created)) zip.addBuffer(Buffer.from(xml), name, { mtime: created })
  zip.addReadStream(sheet, SHEET, { mtime: created })
  zip.end()
  pipeline(csv, parse({ bom: true }), sheet, (err) => { if (err) out.destroy(err) })
  zip.on('error', (err: Error) => out.destroy(err))
  out.on('close', () => { if (!out.readableEnded) sheet.destroy() })
  return out
}
