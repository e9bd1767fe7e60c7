// The exports of `GET /v1/values` measured on a running service: every value of three of
// the fifteen years (about a fifth of the dataset) as CSV and as a workbook, each streamed
// to the end while the service's RSS is sampled, and PostgreSQL's own `COPY (same query)
// TO STDOUT` of the same rows as the baseline of their time.
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import ExcelJS from 'exceljs'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { memoryOf, query, sampleRss } from './lib.ts'

export const EXPORT_FROM = 2023
export const EXPORT_TO = 2025
const PATH = `/v1/values?from=${EXPORT_FROM}&to=${EXPORT_TO}`

export interface ExportRun { rows: number, bytes: number, ms: number, rowsPerSecond: number, rssBeforeMB: number, rssMaxMB: number, rssGrowthMB: number }

/** How many values the export lists (totals only, as the export's default). */
export async function expectedRows (url: string): Promise<number> {
  const [{ n }] = await query<{ n: number }>(url, `select count(*)::int as n from yearly_values
    where from_year >= $1 and year <= $2 and category is null and grade is null and sex is null and area is null`, [EXPORT_FROM, EXPORT_TO]) as [{ n: number }]
  return n
}

/**
 * Streams one export from the service at `port` (process `pid`) while sampling its RSS every
 * 100 ms; RSS before is taken after 2 s of quiet. A CSV is counted by its lines as it comes;
 * a workbook is saved to a temporary file and its rows counted afterwards (outside the time),
 * through the streaming reader the import uses, so the count also proves it reads back.
 */
export async function measureExport (port: number, pid: number, format: 'csv' | 'xlsx', expected: number): Promise<ExportRun> {
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const before = memoryOf(pid).rss
  const sampler = sampleRss(pid, 100)
  const dir = format === 'xlsx' ? await mkdtemp(path.join(os.tmpdir(), 'bench-xlsx-')) : undefined
  try {
    const file = dir === undefined ? undefined : path.join(dir, 'values.xlsx')
    const started = performance.now()
    let bytes = 0
    let lines = 0
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `${PATH}&format=${format}` }, resolve).on('error', reject)
    })
    if (res.statusCode !== 200) throw new Error(`${format} export: ${res.statusCode}`)
    res.on('data', (c: Buffer) => {
      bytes += c.length
      if (file === undefined) for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) lines++
    })
    if (file === undefined) await once(res, 'end')
    else await pipeline(res, createWriteStream(file))
    const ms = performance.now() - started
    const rss = sampler.stop()
    // A CSV row is one line (no value of the synthetic dataset holds a newline).
    const rows = file === undefined ? lines - 1 : await workbookRows(file)
    if (rows !== expected) throw new Error(`${format} export: ${rows} rows, expected ${expected}`)
    return { rows, bytes, ms, rowsPerSecond: rows / (ms / 1000), rssBeforeMB: before, rssMaxMB: rss.max, rssGrowthMB: rss.max - before }
  } finally {
    sampler.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }
}

/** Data rows of a workbook's first sheet (the header row not counted). */
async function workbookRows (file: string): Promise<number> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(file, { sharedStrings: 'ignore', styles: 'ignore', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' })
  let rows = 0
  // eslint-disable-next-line no-unreachable-loop -- the first sheet only
  for await (const sheet of reader) {
    for await (const row of sheet) rows = row.number
    break
  }
  return rows - 1
}

/** `COPY (the export's query) TO STDOUT`, read to the end: its time and size. */
export async function copyBaseline (url: string): Promise<{ copyMs: number, copyBytes: number }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const started = performance.now()
    const stream = client.query(copyTo(`copy (select * from yearly_values where from_year >= ${EXPORT_FROM} and year <= ${EXPORT_TO}
      and category is null and grade is null and sex is null and area is null order by year, id) to stdout (format csv, header)`))
    let copyBytes = 0
    stream.on('data', (c: Buffer) => { copyBytes += c.length })
    await once(stream, 'end')
    return { copyMs: performance.now() - started, copyBytes }
  } finally {
    await client.end()
  }
}
