/**
 * How pages show dates, times and numbers: the one place a view turns a value into text. The API
 * never comes here: it keeps ISO 8601 in UTC and exact decimals (docs/dates-and-numbers.md).
 */

/** The reader's display preferences, as `/v1/me` returns them (a `User` satisfies this). */
export interface ReaderPreferences {
  /** An IANA zone name ("Asia/Singapore"). */
  readonly timezone: string
  readonly timeFormat: 12 | 24
}

/** For pages shown to no one in particular (sign-in, error pages) and accounts still on the default. */
export const UTC_READER: ReaderPreferences = { timezone: "UTC", timeFormat: 24 }

interface ZonedParts {
  readonly date: string
  readonly time: string
  readonly zone: string
}

// A formatter costs far more to build than to use and pages format whole tables, so keep one per
// zone, format and precision. Only zones Intl accepts are ever stored, which bounds the map by
// Intl's own list (≈450 names).
const formatters = new Map<string, Intl.DateTimeFormat>()

const formatterFor = (timezone: string, timeFormat: 12 | 24, seconds: boolean): Intl.DateTimeFormat => {
  const key = `${timezone}|${timeFormat}|${seconds}`
  const cached = formatters.get(key)
  if (cached) return cached
  const formatter = new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: timeFormat === 12 ? "numeric" : "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
    hourCycle: timeFormat === 12 ? "h12" : "h23",
  })
  formatters.set(key, formatter)
  return formatter
}

const isKnownZone = (timezone: string): boolean => {
  try {
    formatterFor(timezone, 24, false)
    return true
  } catch {
    return false
  }
}

/**
 * A stored preference that Intl does not know (an old row, a zone renamed by a tzdata update) must
 * not take the page down: the reader sees UTC, named as such, rather than an error.
 */
const effectiveZone = (timezone: string): string => (isKnownZone(timezone) ? timezone : "UTC")

const zonedParts = (at: Date, reader: ReaderPreferences, seconds: boolean): ZonedParts => {
  const zone = effectiveZone(reader.timezone)
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {}
  for (const part of formatterFor(zone, reader.timeFormat, seconds).formatToParts(at)) parts[part.type] = part.value
  const clock = [parts.hour, parts.minute, ...(seconds ? [parts.second] : [])].join(":")
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: reader.timeFormat === 12 ? `${clock} ${(parts.dayPeriod ?? "").toUpperCase()}` : clock,
    zone,
  }
}

const WALL_CLOCK = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?)?$/

/** The zone's reader-facing name: the one times on the pages are shown in. */
export const readerZone = (reader: ReaderPreferences): string => effectiveZone(reader.timezone)

/**
 * A date or date-time typed without a zone, read as the reader's wall clock: `2026-03-01T09:00` in
 * Asia/Singapore is `2026-03-01T09:00:00+08:00`, the time a row on the page shows as 09:00. A value
 * that names its zone, or is not a wall-clock time, is returned as it is (its parser judges it).
 */
export const atReaderWallClock = (text: string, reader: ReaderPreferences): string => {
  const match = WALL_CLOCK.exec(text)
  const zone = readerZone(reader)
  if (match === null || zone === "UTC") return text
  const local = `${match[1]}T${match[2] ?? "00:00"}${match[3] ?? ":00"}`
  const asUtc = Date.parse(`${local}Z`)
  if (Number.isNaN(asUtc)) return text
  const wall = (ms: number) => {
    const { date, time } = zonedParts(new Date(ms), { timezone: zone, timeFormat: 24 }, true)
    return Date.parse(`${date}T${time}Z`)
  }
  // The zone's offset at that wall-clock time: found from a first guess, then again at the instant it
  // gives, so a time next to a daylight-saving change gets that day's offset.
  const first = wall(asUtc) - asUtc
  const offset = wall(asUtc - first) - (asUtc - first)
  const minutes = Math.round(offset / 60_000)
  const sign = minutes < 0 ? "-" : "+"
  const abs = Math.abs(minutes)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`
}

/** `2026-03-01 14:05 Asia/Singapore` or `2026-03-01 2:05 PM America/New_York`: the zone is always named. */
export const formatTimestamp = (at: Date, reader: ReaderPreferences, options: { readonly seconds?: boolean } = {}): string => {
  const { date, time, zone } = zonedParts(at, reader, options.seconds ?? false)
  return `${date} ${time} ${zone}`
}

/** The calendar date (YYYY-MM-DD) of an instant where the reader is, not in UTC. */
export const formatDate = (at: Date, reader: ReaderPreferences): string => zonedParts(at, reader, false).date

/** The machine-readable form for `<time datetime>`: the instant itself, in UTC. */
export const isoInstant = (at: Date): string => at.toISOString()

// Intl formats a numeric *string* as the exact decimal it spells (Intl.NumberFormat v3), so rounding
// happens on the digits and a value never passes through a double on its way to the page.
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/
const isDecimal = (text: string): text is `${number}` => DECIMAL.test(text)

const grouped = (digits: number) =>
  // "negative": a tiny removal that rounds to nothing reads `0`, not `-0`.
  new Intl.NumberFormat("en-GB", {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
    roundingMode: "halfExpand",
    signDisplay: "negative",
  })

const THREE_DECIMALS = grouped(3)
const WHOLE = grouped(0)

/** Whole numbers with thousands separators: row counts, totals. */
export const formatCount = (n: number): string => WHOLE.format(n)

/**
 * A quantity as the file gave it, with thousands separators and every digit it had: grouped by hand on
 * the digits, never rounded (an activity's 0.000125 t stays 0.000125 t).
 */
export const formatQuantity = (value: string): string => {
  const match = DECIMAL.exec(value.trim())
  if (match === null) return value
  const [, sign = "", whole = "", fraction] = match
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}${fraction === undefined ? "" : `.${fraction}`}`
}

/** Moves the decimal point three places left in the digits themselves: kg → t without a float. */
const kgToTonnes = (kg: `${number}`): `${number}` => {
  const [, sign = "", whole = "", fraction = ""] = DECIMAL.exec(kg) ?? []
  const padded = whole.padStart(4, "0")
  return `${sign}${padded.slice(0, -3)}.${padded.slice(-3)}${fraction}` as `${number}`
}

/**
 * Emissions for a person: kg CO2e below 1,000 kg, t CO2e from there on, always labelled, with
 * thousands separators and at most three decimals (a gram, or a kilogram once in tonnes). The unit
 * is chosen on the rounded figure so that 999.9996 kg reads `1 t CO2e`, never `1,000 kg CO2e`.
 * Takes the exact decimal text the API carries; the API itself keeps every digit.
 */
export const formatEmissions = (kg: string): string => {
  const text = kg.trim()
  if (!isDecimal(text)) return text
  const roundedKg = THREE_DECIMALS.format(text)
  if (roundedKg.replace(/^-/, "").replace(/,/g, "").split(".")[0]!.length < 4) return `${roundedKg} kg CO2e`
  return `${THREE_DECIMALS.format(kgToTonnes(text))} t CO2e`
}

/** Emissions in kg CO2e whatever their size (where a calculation is written out in the factor's own unit). */
export const formatKilograms = (kg: string): string => {
  const text = kg.trim()
  return isDecimal(text) ? `${THREE_DECIMALS.format(text)} kg CO2e` : text
}

// Fifteen significant digits: every decimal of that length survives a round trip through a double
// and back, so a figure cut there can carry no binary residue; it is also what a spreadsheet shows.
const FACTOR = new Intl.NumberFormat("en-GB", { maximumSignificantDigits: 15, roundingMode: "halfExpand" })

/**
 * A factor value as the publication prints it. Stored factors are the shortest decimal naming the
 * file's double, which for most is the published figure (`752.0276`); but where the publisher's
 * spreadsheet computed a factor, its double is itself residue (`0.043059999999999994`, shown there
 * as 0.04306). Cutting at fifteen significant digits shows what the spreadsheet showed and leaves
 * every other figure whole; the API keeps the stored digits.
 */
export const formatFactorValue = (value: string): string => {
  const text = value.trim()
  return isDecimal(text) ? FACTOR.format(text) : text
}
