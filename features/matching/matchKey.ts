import { parseUnit, type Unit } from "@scopeline/catalogue"
import { Option } from "effect"

/**
 * Punctuation that never changes what an activity is ("Diesel!!", "'Diesel'", "diesel;"), and "|",
 * which separates the parts of a key. Hyphens, slashes, dots, commas inside numbers, "&", "%", "+" and
 * brackets stay: "2.5t", "50/50 blend" and "r-134a" mean something.
 */
const NOISE = /[!"#$*:;<=>?@[\\\]^_`{|}~'\u2018\u2019\u201c\u201d\u2026\u2022\u00b7]+/gu
const EDGE = /^[\s\-./,]+|[\s\-./,]+$/gu

/**
 * Lowercase, noise stripped, whitespace collapsed, no leading/trailing separators. Idempotent (a
 * property test holds it to that), so a key computed from a normalised description is the same key.
 */
export const normaliseDescription = (text: string): string =>
  text.toLowerCase().replace(NOISE, " ").replace(/\s+/gu, " ").replace(EDGE, "")

/** ISO 3166-1 alpha-2 as stored; blank means "not given". */
export const normaliseGeography = (geography: string | null | undefined): string | null => {
  const trimmed = geography?.trim().toUpperCase() ?? ""
  return trimmed === "" ? null : trimmed
}

export interface MatchKeyParts {
  readonly key: string
  readonly description: string
  readonly unit: Unit
  readonly geography: string | null
}

/**
 * `store electricity - tampines outlet|kWh|SG`: everything that decides which factor applies, and
 * nothing else. The unit is the registry's symbol, so "litres", "L" and "ltr" share one key, while
 * units of different dimensions can never collide. None when the unit is not in the registry.
 */
export const matchKey = (
  description: string,
  unitText: string,
  geography: string | null | undefined,
): Option.Option<MatchKeyParts> =>
  Option.map(parseUnit(unitText), (unit) => {
    const normalised = normaliseDescription(description)
    const geo = normaliseGeography(geography)
    return {
      key: geo === null ? `${normalised}|${unit.symbol}` : `${normalised}|${unit.symbol}|${geo}`,
      description: normalised,
      unit,
      geography: geo,
    }
  })
