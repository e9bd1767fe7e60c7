/**
 * Hostile inputs the fuzzer mixes into otherwise plausible requests:
 * each is something a careless service turns into a 500, a leak or silent corruption.
 */

/** Strings placed in string fields, query values and path segments. */
export const NASTY_STRINGS: readonly string[] = [
  'a\u0000b', // NUL: PostgreSQL text cannot hold it
  '\u0000',
  '\ud800', // lone surrogates: not encodable as UTF-8
  'x\udfffy',
  '\udc00\ud800',
  '３３００００', // full-width digits look like a region code
  '３３１００３',
  '330000\u200b', // zero-width space
  '٣٣٠٠٠٠', // Arabic-Indic digits
  '33 0000',
  ' 330000',
  '330000\n',
  '\'; drop table regions; --',
  '\' OR 1=1; select * from regions; --',
  'x\'); delete from yearly_values; --',
  '"; update regions set name = \'x\' --',
  'hardship-subsidy-coverage\' union select password from pg_user --',
  '$1',
  '%',
  '_',
  '\\',
  '%00',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '$' + '{7*7}', // template injection
  '\u202eevil', // right-to-left override
  '🦽♿️',
  'e\u0301', // combining accent
  '\r\nX-Injected: 1',
  '',
  ' ',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '1e999',
  '-0',
  '0x10',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'hasOwnProperty'
]

/** Raw JSON number literals (and non-JSON words) spliced into a body where a value goes. */
export const NASTY_NUMBER_LITERALS: readonly string[] = [
  '1e999', '-1e999', '1e-999', '1e308', '-1e308', '9007199254740993', '-9007199254740993',
  '123456789012345678901234567890', '0.1e-400', '-0', '-0.0', '1E3', '2020.0', '2020.5',
  '5e-324', '0.30000000000000004', '1.0000000000000002', '100.0000001', '1e21', '-1',
  'NaN', 'Infinity', '-Infinity', '+1', '01', '.5', '0x10', '1_000'
]

/** Values of another JSON type, for the "wrong type" strategy. */
export const WRONG_TYPED: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 2020, '', '2020', 'true', [], [1], ['330000'], {}, { a: 1 },
  { $gt: '' }, [null], 'null'
]

/** Content types the routes do not declare (or declare only elsewhere). */
export const WRONG_CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined, // no content type at all
  '',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/xml',
  'text/html',
  'multipart/form-data; boundary=fuzz',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/json; charset=iso-8859-1',
  'application/problem+json',
  'application/merge-patch+json',
  'APPLICATION/JSON',
  'application/json, text/csv',
  'text/csv',
  'application/jsonx',
  'application/vnd.api+json',
  ';',
  'application/json; boundary="',
  '*/*'
]

export const ACCEPT_HEADERS: readonly string[] = [
  'text/csv', 'application/xml', 'text/html', '*/*', 'application/json;q=0', 'text/csv;q=0.1, application/json',
  'application/problem+json', 'image/png', ';;;', 'application/*'
]

export const CONDITION_HEADERS: ReadonlyArray<Record<string, string>> = [
  { 'if-match': '"1"' }, { 'if-match': '"2"' }, { 'if-match': '*' }, { 'if-match': 'W/"1"' },
  { 'if-match': 'garbage' }, { 'if-match': '"1", "2", "3"' }, { 'if-match': '""' }, { 'if-match': ',,,' },
  { 'if-none-match': '*' }, { 'if-none-match': '"1"' }, { 'if-none-match': 'W/"1", "2"' },
  { 'if-match': '"99999999999999999999"' }, { 'if-match': '"-1"' }
]

/** Broken JSON texts, and ways to break a valid one. */
export const BROKEN_JSON: readonly string[] = [
  '', '{', '}', '[', '{"a":', '{"a":1,}', '[1,]', '{\'a\':1}', '{a:1}', 'nul', 'NaN', 'undefined',
  '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":"\\u00"}', '{"a":"\\x41"}', '{"a":"\u0000"}',
  '\ufeff{}', '{}{}', '{} trailing', '"\\ud800"', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
  '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}'
]

export function breakJson (text: string, cut: number, how: number): string {
  switch (how % 6) {
    case 0: return text.slice(0, Math.max(0, Math.min(cut, text.length - 1)))
    case 1: return text.replace(/}$/, ',}')
    case 2: return text.replace(/"/g, '\'')
    case 3: return `\ufeff${text}`
    case 4: return `${text}${text}`
    default: return text.replace(/:/, '::')
  }
}

/** Bytes that are not UTF-8. */
export const INVALID_UTF8: readonly number[][] = [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xe2, 0x28, 0xa1], [0xf8, 0x88, 0x80, 0x80, 0x80]]

/** Keys that must not reach an object's prototype. */
export const PROTO_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toString', 'valueOf', '']

/** Percent-encodes like encodeURIComponent, but keeps lone surrogates as their WTF-8 bytes. */
export function encodeLoose (text: string): string {
  try {
    return encodeURIComponent(text)
  } catch {
    let out = ''
    for (const ch of text) {
      const cp = ch.codePointAt(0)!
      if (cp >= 0xd800 && cp <= 0xdfff) {
        out += `%${(0xe0 | (cp >> 12)).toString(16)}%${(0x80 | ((cp >> 6) & 0x3f)).toString(16)}%${(0x80 | (cp & 0x3f)).toString(16)}`.toUpperCase()
      } else {
        out += encodeURIComponent(ch)
      }
    }
    return out
  }
}
