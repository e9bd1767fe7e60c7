/**
 * WAL positions (PostgreSQL's `pg_lsn`) as the API hands them out in `Commit-Position`
 * and takes them back: the text PostgreSQL writes, two hexadecimal numbers of up to 32
 * bits each (`16/B374D848`), and the 64-bit byte offset they stand for, which is what
 * replay positions are compared by.
 */

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/

/** The byte offset of a WAL position, or undefined when the text is not one. */
export function parseLsn (text: string): bigint | undefined {
  const m = LSN.exec(text.trim())
  if (m === null) return undefined
  return (BigInt(`0x${m[1]!}`) << 32n) | BigInt(`0x${m[2]!}`)
}

/** A byte offset written as PostgreSQL writes a `pg_lsn`. */
export function formatLsn (lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xFFFFFFFFn).toString(16).toUpperCase()}`
}

/** The pattern of the header, for the OpenAPI document. */
export const LSN_PATTERN = LSN.source
