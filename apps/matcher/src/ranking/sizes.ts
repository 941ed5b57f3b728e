/**
 * Sizes and thresholds written with symbols and units: vehicle weights ("44t artic", "7.5–17 t",
 * ">33t", "up to 3.5 tonnes"), container ships ("1000-1999 TEU", "8000+ TEU"), tankers and bulk
 * carriers ("200,000+ dwt"), gas carriers (m3), car carriers (CEU) and ro-ro decks (LM). The digits
 * of a size are no evidence on their own ("17" matches every name with a 17 in it), so the query's
 * size is read as an interval and compared with each factor's band.
 */

export type Measure = "t" | "teu" | "dwt" | "m3" | "ceu" | "lm"

export interface Interval {
  readonly measure: Measure
  readonly lo: number
  readonly hi: number
  /** ">7.5 tonnes-17 tonnes" excludes 7.5; "8000+ TEU" and "1000–1999 TEU" include their lower bound. */
  readonly loInclusive: boolean
}

/** Beyond any real size: stands for "and above" in bands such as "8000+ TEU". */
const OPEN_END: Readonly<Record<Measure, number>> = { t: 60, teu: 30_000, dwt: 500_000, m3: 300_000, ceu: 10_000, lm: 6_000 }

const UNIT = String.raw`(t|tonnes?|tons?|teu|dwt|m3|ceu|lm)`
const NUMBER = String.raw`(\d+(?:\.\d+)?)`

const measureOf = (unit: string): Measure => {
  if (/^(t|tonnes?|tons?)$/.test(unit)) return "t"
  return unit as Measure
}

/** "200,000" → "200000", dashes and the words for them made one hyphen, so one set of patterns reads all spellings. */
const normalise = (text: string) =>
  text
    .toLowerCase()
    .replace(/(\d),(\d{3})(?!\d)/g, "$1$2")
    .replace(/(\d),(\d{3})(?!\d)/g, "$1$2")
    .replace(/[–—]/g, "-")
    .replace(/m³/g, "m3")

const RANGE = new RegExp(String.raw`>?\s*${NUMBER}\s*${UNIT}?\s*(?:-|to)\s*${NUMBER}\s*${UNIT}(?![a-z])`, "g")
const PLUS = new RegExp(String.raw`${NUMBER}\s*\+\s*${UNIT}(?![a-z])|${NUMBER}\s*${UNIT}\s*\+`, "g")
const ABOVE = new RegExp(String.raw`(?:>|over|above|more than|greater than|heavier than)\s*${NUMBER}\s*${UNIT}(?![a-z])`, "g")
const BELOW = new RegExp(String.raw`(?:<=?|≤|under|below|up to|upto|less than|max\.?|maximum)\s*${NUMBER}\s*${UNIT}(?![a-z])`, "g")
const POINT = new RegExp(String.raw`(?<![\d.])${NUMBER}\s*-?\s*${UNIT}(?![a-z0-9])`, "g")

interface Found extends Interval {
  readonly start: number
  readonly end: number
}

const sizesIn = (text: string): Array<Found> => {
  const normalised = normalise(text)
  const found: Array<Found> = []
  const free = (start: number, end: number) => !found.some((f) => start < f.end && end > f.start)
  const add = (match: RegExpMatchArray, interval: Interval) => {
    const start = match.index ?? 0
    const end = start + match[0].length
    if (free(start, end)) found.push({ ...interval, start, end })
  }
  for (const m of normalised.matchAll(RANGE)) {
    const measure = measureOf(m[4]!)
    if (m[2] !== undefined && measureOf(m[2]) !== measure) continue
    add(m, { measure, lo: Number(m[1]), hi: Number(m[3]), loInclusive: !m[0].trimStart().startsWith(">") })
  }
  for (const m of normalised.matchAll(PLUS)) {
    const measure = measureOf((m[2] ?? m[4])!)
    add(m, { measure, lo: Number(m[1] ?? m[3]), hi: OPEN_END[measure], loInclusive: true })
  }
  for (const m of normalised.matchAll(ABOVE)) {
    const measure = measureOf(m[2]!)
    add(m, { measure, lo: Number(m[1]), hi: OPEN_END[measure], loInclusive: false })
  }
  for (const m of normalised.matchAll(BELOW)) add(m, { measure: measureOf(m[2]!), lo: 0, hi: Number(m[1]), loInclusive: true })
  for (const m of normalised.matchAll(POINT)) {
    const value = Number(m[1])
    add(m, { measure: measureOf(m[2]!), lo: value, hi: value, loInclusive: true })
  }
  return found.sort((a, b) => a.start - b.start)
}

/** The size a query names (the first one), if any. */
export const querySize = (text: string): Interval | undefined => {
  const [first] = sizesIn(text)
  return first && { measure: first.measure, lo: first.lo, hi: first.hi, loInclusive: first.loInclusive }
}

/** The query without its size expressions, so their digits and units are not matched as words. */
export const withoutSizes = (text: string): string => {
  const normalised = normalise(text)
  let out = ""
  let at = 0
  for (const size of sizesIn(text)) {
    out += `${normalised.slice(at, size.start)} `
    at = size.end
  }
  return out + normalised.slice(at)
}

/** A factor's size band, read from its name ("Rigid (>7.5 tonnes-17 tonnes)", "0–999 TEU", "Average"). */
export const factorBand = (name: string): Interval | undefined => sizesIn(name)[0]

/**
 * How well a factor's band fits the query's size: 1 for the band itself or a size inside it, the
 * intervals' overlap over their union in between, 0 for a band that excludes it.
 */
export const bandFit = (query: Interval, band: Interval): number => {
  if (query.lo === query.hi) {
    const aboveLo = band.loInclusive ? query.lo >= band.lo : query.lo > band.lo
    return aboveLo && query.lo <= band.hi ? 1 : 0
  }
  const overlap = Math.min(query.hi, band.hi) - Math.max(query.lo, band.lo)
  if (overlap <= 0) return 0
  const union = Math.max(query.hi, band.hi) - Math.min(query.lo, band.lo)
  return union <= 0 ? 1 : overlap / union
}
