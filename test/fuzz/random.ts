import fc from 'fast-check'

/**
 * Randomness of one request (everything it is made of comes from one fast-check generator
 * value, so a seed replays the stream): `fc` draws structured values from fast-check arbitraries
 * (strings, JSON, bytes); `next` is a small PRNG seeded from fast-check for the many
 * plain choices (building an fc.integer per choice costs more than the request itself).
 */
export interface G { fc: fc.GeneratorValue, next: () => number }

/** mulberry32: tiny, fast, good enough to pick among strategies and fields. */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Arbitraries built once. Full-Unicode strings go unbiased: the bias step rebuilds a
 * code-point table on every draw, which cost more than the rest of the request.
 */
export const ARB = {
  binary: fc.noBias(fc.string({ unit: 'binary', maxLength: 40 })),
  binaryAscii: fc.noBias(fc.string({ unit: 'binary-ascii', maxLength: 40 })),
  key: fc.string({ maxLength: 12 }),
  json2: fc.jsonValue({ maxDepth: 2 }),
  json4: fc.jsonValue({ maxDepth: 4 }),
  object1: fc.object({ maxDepth: 1 }),
  object2: fc.object({ maxDepth: 2 }),
  bytes: fc.uint8Array({ maxLength: 300 })
}
export const draw = <T>(g: G, arb: fc.Arbitrary<T>): T => g.fc(() => arb)

export const int = (g: G, min: number, max: number) => min + Math.floor(g.next() * (max - min + 1))
export const pick = <T>(g: G, xs: readonly T[]): T => xs[int(g, 0, xs.length - 1)]!
export const chance = (g: G, p: number) => g.next() < p

export function weighted<T extends string> (g: G, table: Array<[T, number]>): T {
  const live = table.filter(([, w]) => w > 0)
  let roll = int(g, 0, live.reduce((s, [, w]) => s + w, 0) - 1)
  for (const [name, w] of live) {
    if (roll < w) return name
    roll -= w
  }
  return live[0]![0]
}
