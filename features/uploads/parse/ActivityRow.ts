import { countryByIso2, countryByIso3 } from "@scopeline/catalogue"
import {
  MAX_QUANTITY_DIGITS,
  MAX_QUANTITY_EXPONENT,
  MIN_QUANTITY_EXPONENT,
  QUANTITY_RANGE_TEXT,
} from "@scopeline/catalogue"
import { isKnownUnit } from "@scopeline/catalogue"
import { Either, ParseResult, Schema } from "effect"

/**
 * One row of an activity file, from the strings in the file to typed values. Every failure message
 * is written for the person who will fix the spreadsheet.
 *
 * Each column's rule is a plain checker function. `decodeRow` calls them directly (the parse worker
 * runs it a million times per big file, where a Schema decode costs ~20 µs a row); `ActivityRowSchema`
 * is built from the same checkers, and a property test keeps the two in agreement.
 */

type Check<A> = (raw: string) => { readonly ok: true; readonly value: A } | { readonly ok: false; readonly message: string }
const ok = <A>(value: A) => ({ ok: true as const, value })
const bad = (message: string) => ({ ok: false as const, message })

const text =
  (max: number, required: string | null): Check<string | null> =>
  (raw) => {
    const value = raw.trim()
    if (value === "") return required === null ? ok(null) : bad(required)
    return value.length > max ? bad(`is longer than ${max} characters`) : ok(value)
  }

// Groups: integer digits, fraction digits (after "1." or in ".5"), exponent.
const DECIMAL = /^(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([-+]?\d+))?$/

const DIGIT_ZERO = "0".charCodeAt(0)
const DOT = ".".charCodeAt(0)

/**
 * A decimal already known to match DECIMAL, checked against the allowed range (QuantityRange.ts)
 * exactly, on its digits: through a double, 1000000000000.0000001 would pass as 1e12 and 1e-400 would
 * become 0. Output: the value as a plain decimal without exponent or redundant zeros ("1.5e3" →
 * "1500"), so what is stored never depends on how the spreadsheet chose to write it.
 */
const inRange = (match: RegExpExecArray): ReturnType<Check<string>> => {
  const whole = match[1] ?? ""
  const digits = whole + (match[2] ?? match[3] ?? "")
  let first = 0
  while (first < digits.length && digits.charCodeAt(first) === DIGIT_ZERO) first++
  if (first === digits.length) return ok("0")
  let end = digits.length
  while (digits.charCodeAt(end - 1) === DIGIT_ZERO) end--
  const significant = digits.slice(first, end)
  // value = 0.<significant> × 10^point; an absurd exponent gives ±Infinity, which the bounds refuse.
  const point = whole.length - first + (match[4] === undefined ? 0 : Number(match[4]))
  if (point > MAX_QUANTITY_EXPONENT + 1 || (point === MAX_QUANTITY_EXPONENT + 1 && significant !== "1")) {
    return bad(`is too large; ${QUANTITY_RANGE_TEXT}`)
  }
  if (point < MIN_QUANTITY_EXPONENT + 1) return bad(`is too small to record; ${QUANTITY_RANGE_TEXT}`)
  if (significant.length > MAX_QUANTITY_DIGITS) return bad(`has more than ${MAX_QUANTITY_DIGITS} significant digits`)
  const n = significant.length
  if (point <= 0) return ok(`0.${"0".repeat(-point)}${significant}`)
  if (point >= n) return ok(significant + "0".repeat(point - n))
  return ok(`${significant.slice(0, point)}.${significant.slice(point)}`)
}

const isDigit = (code: number) => code >= DIGIT_ZERO && code <= DIGIT_ZERO + 9

/**
 * The common case, a plain decimal from 1 to under 10^12 already written the way it is stored
 * ("41250", "1200.5"), accepted in one pass without a regex or a new string: the parse worker checks
 * a million of them per big file. Undefined for anything else, left to `inRange`, which gives the
 * same answers.
 */
const plainQuantity = (value: string): ReturnType<Check<string>> | undefined => {
  const n = value.length
  const lead = value.charCodeAt(0)
  if (lead === DIGIT_ZERO || !isDigit(lead)) return undefined
  let i = 1
  while (i < n && isDigit(value.charCodeAt(i))) i++
  if (i > MAX_QUANTITY_EXPONENT) return undefined
  if (i === n) return ok(value)
  if (value.charCodeAt(i) !== DOT || n - 1 > MAX_QUANTITY_DIGITS || value.charCodeAt(n - 1) === DIGIT_ZERO) return undefined
  for (let j = i + 1; j < n; j++) if (!isDigit(value.charCodeAt(j))) return undefined
  return i + 1 < n ? ok(value) : undefined
}

/**
 * "1234.5" and "1.2e3"; in semicolon files also the decimal comma "1234,5". Output: a plain decimal
 * string within QuantityRange.ts's range. Negative quantities are refused, but "-0" is 0.
 */
export const checkQuantity = (decimalComma: boolean): Check<string> => {
  const unsigned = (value: string): ReturnType<Check<string>> => {
    // Semicolon files come from spreadsheets where "1.234" usually means one thousand two hundred and
    // thirty-four; reading it as 1.234 would understate by 1,000×, so such a value is refused.
    if (decimalComma && /^\d{1,3}(\.\d{3})+$/.test(value)) {
      return bad("is ambiguous in a semicolon-separated file: write 1234 (or 1,234 for a decimal)")
    }
    const plain = plainQuantity(value)
    if (plain !== undefined) return plain
    const normalised = decimalComma && /^\d+,\d+$/.test(value) ? value.replace(",", ".") : value
    const match = DECIMAL.exec(normalised)
    if (match === null) {
      return bad(`is not a number${/\d[,\s]\d{3}/.test(value) ? " (write it without thousands separators)" : ""}`)
    }
    return inRange(match)
  }
  return (raw) => {
    const value = raw.trim()
    if (value === "") return bad("is empty; enter the amount as a number")
    if (value.startsWith("-")) {
      // Spreadsheets write a rounded-away negative as "-0": no amount, so not a negative quantity.
      const magnitude = unsigned(value.slice(1))
      return magnitude.ok && magnitude.value === "0" ? magnitude : bad("is negative; quantities must be zero or more")
    }
    return unsigned(value)
  }
}

/** Answers of the unit registry, by the text as written (a file uses a handful of spellings). */
const knownUnits = new Map<string, boolean>()

/** The one place that decides which units a file may use: the unit registry. */
export const checkUnit: Check<string> = (raw) => {
  const value = raw.trim()
  if (value === "") return bad("is empty; give the unit of the quantity (e.g. kWh, L, kg, km)")
  let known = knownUnits.get(value)
  if (known === undefined) {
    known = isKnownUnit(value)
    if (knownUnits.size < 10_000) knownUnits.set(value, known)
  }
  return known ? ok(value) : bad("is not a unit Scopeline knows (e.g. kWh, MWh, L, m3, kg, t, km, passenger.km)")
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const digitAt = (value: string, index: number) => {
  const code = value.charCodeAt(index) - 48
  return code >= 0 && code <= 9 ? code : -1
}

/**
 * The common case, a plain "YYYY-MM-DD" from year 100 on, checked without a regex or a Date: true
 * for a real calendar date, false for one that is not, undefined for anything else (left to the
 * general rule below, which gives the same answers).
 */
const plainDate = (value: string): boolean | undefined => {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return undefined
  const y0 = digitAt(value, 0), y1 = digitAt(value, 1), y2 = digitAt(value, 2), y3 = digitAt(value, 3)
  const m0 = digitAt(value, 5), m1 = digitAt(value, 6), d0 = digitAt(value, 8), d1 = digitAt(value, 9)
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return undefined
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
  // Date.UTC reads years 0–99 as 1900–1999: keep that case on the general path.
  if (year < 100) return undefined
  const month = m0 * 10 + m1
  const day = d0 * 10 + d1
  if (month < 1 || month > 12 || day < 1) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)
}

/** ISO 8601 date; a time part is accepted and dropped. Output: YYYY-MM-DD. */
export const checkDate =
  (required: boolean): Check<string | null> =>
  (raw) => {
    const value = raw.trim()
    if (value === "") return required ? bad("is empty; enter a date as YYYY-MM-DD") : ok(null)
    const fast = plainDate(value)
    if (fast !== undefined) return fast ? ok(value) : bad("is not a real calendar date")
    const match = ISO_DATE.exec(value)
    if (!match) return bad("is not a date in the form YYYY-MM-DD")
    const [, y, m, d] = match as unknown as [string, string, string, string]
    const date = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)))
    const real = date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(m) - 1 && date.getUTCDate() === Number(d)
    return real ? ok(`${y}-${m}-${d}`) : bad("is not a real calendar date")
  }

/** ISO 3166-1 country code, alpha-2 (SG) or alpha-3 (SGP). Output: alpha-2. */
export const checkGeography: Check<string | null> = (raw) => {
  const value = raw.trim()
  if (value === "") return ok(null)
  const country = value.length === 2 ? countryByIso2(value) : value.length === 3 ? countryByIso3(value) : undefined
  return country ? ok(country.iso2) : bad("is not an ISO country code (e.g. SG, GB, FR)")
}

/** The sites an activity file may name in its `site` column, by code (compared without case). */
export interface SiteCodes {
  readonly byCode: ReadonlyMap<string, { readonly id: string; readonly code: string }>
  /** The codes as a reader fixing the file needs them listed. */
  readonly listed: string
}

const LISTED_CODES = 20

export const siteCodesOf = (sites: ReadonlyArray<{ readonly id: string; readonly code: string }>): SiteCodes => {
  const codes = sites.map((site) => site.code)
  const more = codes.length - LISTED_CODES
  return {
    byCode: new Map(sites.map((site) => [site.code.toLowerCase(), site])),
    listed: codes.slice(0, LISTED_CODES).join(", ") + (more > 0 ? ` and ${more} more (GET /v1/sites lists them all)` : ""),
  }
}

export const NO_SITES: SiteCodes = siteCodesOf([])

/** A site code the team has created (features/sites). Output: the site's id. */
export const checkSite =
  (sites: SiteCodes): Check<string | null> =>
  (raw) => {
    const value = raw.trim()
    if (value === "") return ok(null)
    const site = sites.byCode.get(value.toLowerCase())
    if (site !== undefined) return ok(site.id)
    return bad(
      sites.byCode.size === 0
        ? "is not a known site code: no sites exist yet. Create the site first (POST /v1/sites) or leave the column empty"
        : `is not a known site code. Known codes: ${sites.listed}`,
    )
  }

export interface ActivityRow {
  readonly description: string
  readonly quantity: string
  readonly unit: string
  readonly date: string
  readonly category: string | null
  readonly geography: string | null
  readonly periodStart: string | null
  readonly periodEnd: string | null
  readonly reference: string | null
  /** The id of the site named in the `site` column, or null. */
  readonly siteId: string | null
}

export interface FieldProblem {
  readonly column: string
  readonly message: string
}

export type RawRow = Readonly<Record<"description" | "quantity" | "unit" | "date", string>> &
  Readonly<Partial<Record<"category" | "geography" | "period_start" | "period_end" | "reference" | "site", string>>>

/** Decodes one row, collecting every problem in it (not just the first). */
export const makeRowDecoder = (decimalComma: boolean, sites: SiteCodes = NO_SITES) => {
  const site = checkSite(sites)
  const description = text(500, "is empty; describe the activity")
  const quantity = checkQuantity(decimalComma)
  const date = checkDate(true)
  const optionalDate = checkDate(false)
  const optionalText = text(200, null)
  return (raw: RawRow): Either.Either<ActivityRow, ReadonlyArray<FieldProblem>> => {
    const problems: Array<FieldProblem> = []
    const take = <A>(column: string, result: ReturnType<Check<A>>): A | undefined => {
      if (result.ok) return result.value
      problems.push({ column, message: result.message })
      return undefined
    }
    const row = {
      description: take("description", description(raw.description)),
      quantity: take("quantity", quantity(raw.quantity)),
      unit: take("unit", checkUnit(raw.unit)),
      date: take("date", date(raw.date)),
      category: take("category", optionalText(raw.category ?? "")),
      geography: take("geography", checkGeography(raw.geography ?? "")),
      periodStart: take("period_start", optionalDate(raw.period_start ?? "")),
      periodEnd: take("period_end", optionalDate(raw.period_end ?? "")),
      reference: take("reference", optionalText(raw.reference ?? "")),
      siteId: take("site", site(raw.site ?? "")),
    }
    if (problems.length === 0 && row.periodStart && row.periodEnd && row.periodStart > row.periodEnd) {
      problems.push({ column: "period_end", message: "is before period_start" })
    }
    return problems.length > 0 ? Either.left(problems) : Either.right(row as ActivityRow)
  }
}

/** The same rules as a Schema, for boundaries that decode single rows (and to check `makeRowDecoder`). */
const fromCheck = <A>(check: Check<A>, to: Schema.Schema<A>) =>
  Schema.transformOrFail(Schema.String, to, {
    strict: true,
    decode: (raw, _, ast) => {
      const result = check(raw)
      return result.ok ? ParseResult.succeed(result.value) : ParseResult.fail(new ParseResult.Type(ast, raw, result.message))
    },
    encode: (value) => ParseResult.succeed(value === null ? "" : String(value)),
  })

const optionalString = (check: Check<string | null>) =>
  Schema.optionalWith(fromCheck(check, Schema.NullOr(Schema.String)), { default: () => null })

export const ActivityRowSchema = (decimalComma: boolean, sites: SiteCodes = NO_SITES) =>
  Schema.Struct({
    description: fromCheck(text(500, "is empty; describe the activity"), Schema.NullOr(Schema.String)),
    quantity: fromCheck(checkQuantity(decimalComma), Schema.String),
    unit: fromCheck(checkUnit, Schema.String),
    date: fromCheck(checkDate(true), Schema.NullOr(Schema.String)),
    category: optionalString(text(200, null)),
    geography: optionalString(checkGeography),
    period_start: optionalString(checkDate(false)),
    period_end: optionalString(checkDate(false)),
    reference: optionalString(text(200, null)),
    site: optionalString(checkSite(sites)),
  }).pipe(
    Schema.filter((row) =>
      row.period_start !== null && row.period_end !== null && row.period_start > row.period_end
        ? { path: ["period_end"], message: "is before period_start" }
        : true,
    ),
  )
