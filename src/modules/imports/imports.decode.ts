import { Transform } from 'node:stream'
import { ApiError } from '../../errors/catalogue.ts'

/**
 * Text files as agencies save them: UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's
 * "Unicode text"), and GB18030/GBK (Excel's "CSV" on a Chinese Windows). Decoded with the
 * platform's TextDecoder in fatal mode, so a byte sequence that is not valid in the
 * encoding refuses the file instead of becoming U+FFFD: no character is ever replaced.
 *
 * Which encoding: a BOM decides; else the `charset` parameter of Content-Type; else it is
 * detected. Detection streams: while the bytes are ASCII every candidate reads them alike,
 * so nothing is decided; at the first non-ASCII byte, a window of DETECT_WINDOW bytes is
 * tried as UTF-8 and, if invalid, as GB18030, and the first that reads the window is kept
 * for the rest. Only that window is ever held, so memory stays bounded whatever the size.
 * A later byte invalid in the chosen encoding refuses the file (a GBK file whose first
 * 4 KiB of Chinese text is also valid UTF-8 does not occur in practice, and would be
 * refused, never stored garbled).
 */

/** The charsets accepted, by their `charset` labels (GBK and GB2312 are read as GB18030, their superset). */
export const CHARSETS: Record<string, Encoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16': 'utf-16le',
  'utf-16le': 'utf-16le',
  'utf-16be': 'utf-16be',
  gb18030: 'gb18030',
  gbk: 'gb18030',
  gb2312: 'gb18030',
  'x-gbk': 'gb18030'
}
export type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'gb18030'
const NAMES: Record<Encoding, string> = { 'utf-8': 'UTF-8', 'utf-16le': 'UTF-16LE', 'utf-16be': 'UTF-16BE', gb18030: 'GB18030' }

const DETECT_WINDOW = 4096
const NONE = 'The body is valid in none of the accepted encodings (UTF-8, UTF-16 with a BOM, GB18030/GBK); save it in one of them, or name its encoding with the charset parameter of Content-Type.'

/** The charset parameter of a Content-Type, lower-cased, if any. */
export function charsetOf (contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '')
  return match?.[1]?.toLowerCase()
}

/** The encoding a charset label names; 415 for a charset the import does not read. */
export function encodingOf (charset: string | undefined): Encoding | undefined {
  if (charset === undefined) return undefined
  const encoding = CHARSETS[charset]
  if (encoding === undefined) {
    throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `charset=${charset} is not read; send ${Object.keys(CHARSETS).join(', ')}, or no charset to have it detected.`)
  }
  return encoding
}

function invalid (message: string): ApiError {
  return new ApiError('VALIDATION_FAILED', message, { errors: [{ field: '/body', code: 'encoding', message }] })
}

function bomOf (bytes: Buffer): Encoding | undefined {
  if (bytes[0] === 0xEF && bytes[1] === 0xBB && bytes[2] === 0xBF) return 'utf-8'
  if (bytes[0] === 0xFF && bytes[1] === 0xFE) return 'utf-16le'
  if (bytes[0] === 0xFE && bytes[1] === 0xFF) return 'utf-16be'
  return undefined
}

/** Whether `bytes` read as `encoding` without an invalid sequence (an incomplete one at the end is allowed). */
function reads (encoding: Encoding, bytes: Buffer): boolean {
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream: true })
    return true
  } catch {
    return false
  }
}

/**
 * A decoder of one body, fed bytes as they come (`write`) and closed with `end`; both
 * give the text decoded so far, and throw a 400 problem on bytes no accepted encoding
 * reads. `declared`: the encoding the charset parameter named, if any.
 */
export function createBodyDecoder (declared?: Encoding) {
  let head: Buffer = Buffer.alloc(0) // bytes held until the BOM, or the encoding, is known
  let started = false
  let encoding: Encoding | undefined
  let offset = 0 // bytes decoded before the held ones (for the error message)

  const use = (chosen: Encoding, detected: boolean) => {
    encoding = chosen
    const decoder = new TextDecoder(chosen, { fatal: true })
    const wrong = detected && chosen === 'gb18030' ? NONE : `The body is not valid ${NAMES[chosen]}${declared !== undefined ? ' (the charset it was sent with)' : ''}; save it as UTF-8, UTF-16 with a BOM or GB18030/GBK, and name the encoding in the charset parameter of Content-Type if in doubt.`
    return (bytes: Buffer, last: boolean): string => {
      try {
        const text = decoder.decode(bytes, { stream: !last })
        offset += bytes.length
        return text
      } catch {
        throw invalid(`${wrong} (an invalid byte sequence after byte ${offset})`)
      }
    }
  }
  let decode: ((bytes: Buffer, last: boolean) => string) | undefined

  function feed (chunk: Buffer, last: boolean): string {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk])
    if (!started) {
      if (head.length < 3 && !last) return ''
      started = true
      const bom = bomOf(head)
      if (bom !== undefined) decode = use(bom, false) // the BOM wins over a label, as in WHATWG decode
      else if (declared !== undefined) decode = use(declared, false)
    }
    if (decode !== undefined) {
      const bytes = head
      head = Buffer.alloc(0)
      return decode(bytes, last)
    }
    // Detecting: pass on the ASCII prefix, hold from the first other byte until the window is full.
    const firstHigh = head.findIndex((b) => b >= 0x80)
    if (firstHigh < 0) {
      const text = head.toString('latin1')
      offset += head.length
      head = Buffer.alloc(0)
      return text
    }
    if (head.length - firstHigh < DETECT_WINDOW && !last) {
      const text = head.subarray(0, firstHigh).toString('latin1')
      offset += firstHigh
      head = head.subarray(firstHigh)
      return text
    }
    const window = head.subarray(firstHigh, firstHigh + DETECT_WINDOW)
    const chosen = reads('utf-8', window) ? 'utf-8' : reads('gb18030', window) ? 'gb18030' : undefined
    if (chosen === undefined) throw invalid(NONE)
    decode = use(chosen, true)
    const bytes = head
    head = Buffer.alloc(0)
    return decode(bytes, last)
  }

  return {
    write: (chunk: Buffer) => feed(chunk, false),
    end: () => feed(Buffer.alloc(0), true),
    /** The encoding read (once known). */
    encoding: () => encoding
  }
}

/** A whole file's bytes as text (the CLI's push). */
export function decodeBytes (bytes: Buffer, declared?: Encoding): string {
  const decoder = createBodyDecoder(declared)
  return decoder.write(bytes) + decoder.end()
}

/** A stream of a body's bytes → a stream of its text (strings), decoded as above. */
export function decodingStream (declared?: Encoding): Transform {
  const decoder = createBodyDecoder(declared)
  return new Transform({
    readableObjectMode: true,
    transform (chunk: Buffer, _encoding, callback) {
      try {
        const text = decoder.write(chunk)
        callback(null, text === '' ? undefined : text)
      } catch (err) {
        callback(err as Error)
      }
    },
    flush (callback) {
      try {
        const text = decoder.end()
        callback(null, text === '' ? undefined : text)
      } catch (err) {
        callback(err as Error)
      }
    }
  })
}
