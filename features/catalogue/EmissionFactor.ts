import { ParseResult, Schema } from "effect"
import { DIMENSIONS } from "./units/Units.ts"

export const EmissionFactorId = Schema.UUID.pipe(Schema.brand("EmissionFactorId"))
export type EmissionFactorId = typeof EmissionFactorId.Type

export const FactorSource = Schema.Literal("DESNZ", "Ember")
export type FactorSource = typeof FactorSource.Type

export const UnitDimension = Schema.Literal(...DIMENSIONS)

/** A plain decimal numeral ("0.0790", "3033.38"): what NUMERIC columns accept and return. */
export const DecimalString = Schema.String.pipe(
  Schema.pattern(/^-?\d+(\.\d+)?$/, { message: () => "must be a plain decimal number" }),
  Schema.brand("DecimalString"),
)
export type DecimalString = typeof DecimalString.Type

/**
 * Rewrites scientific notation as a plain decimal by moving the point in the digit string, never
 * through a float: DESNZ writes small factors as `7.9332475167785244E-2` and an auditor must find
 * the published digits in our database unchanged.
 */
export const plainDecimal = (text: string): string | undefined => {
  const match = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text)
  if (!match) return undefined
  const [, sign = "", intPart = "", fracPart = "", exponentText] = match
  if (intPart === "" && fracPart === "") return undefined
  const exponent = exponentText === undefined ? 0 : Number(exponentText)
  const digits = intPart + fracPart
  let point = intPart.length + exponent
  let padded = digits
  if (point <= 0) {
    padded = "0".repeat(1 - point) + digits
    point = 1
  } else if (point > digits.length) {
    padded = digits + "0".repeat(point - digits.length)
  }
  const whole = padded.slice(0, point).replace(/^0+(?=\d)/, "")
  const fraction = padded.slice(point)
  const body = fraction.length > 0 ? `${whole}.${fraction}` : whole
  return sign === "-" && /[1-9]/.test(body) ? `-${body}` : body
}

/**
 * The published figure behind a flat-file cell: the flat files are exported from spreadsheets that
 * hold each factor as a double and print it with 17 significant digits (`0.059130000000000002` for the
 * 0.05913 of the publication). The shortest decimal that reads back as the same double is what the
 * publication shows, so that is what we store. `undefined` for text that is not a number, and for one
 * a double cannot hold (overflow to Infinity, underflow to 0), which a factor never is.
 */
export const publishedDecimal = (text: string): string | undefined => {
  const plain = plainDecimal(text)
  if (plain === undefined) return undefined
  const double = Number(plain)
  // Underflow would silently store 0; overflow needs no check, "Infinity" is no decimal.
  if (double === 0 && /[1-9]/.test(plain)) return undefined
  // ECMAScript's Number-to-String is the shortest round-trip form (it may use an exponent: 1e-7).
  return plainDecimal(String(double))
}

/** Decodes a CSV cell ("7.9E-2", "0.059130000000000002") into the published figure as a plain decimal. */
export const DecimalFromCsv = Schema.transformOrFail(Schema.String, DecimalString, {
  strict: true,
  decode: (text, _, ast) => {
    const plain = publishedDecimal(text)
    return plain === undefined
      ? ParseResult.fail(new ParseResult.Type(ast, text, `"${text}" is not a number`))
      : ParseResult.succeed(DecimalString.make(plain))
  },
  encode: (value) => ParseResult.succeed(value),
})

/** `${source}:${year}:${sourceId}`: how anything outside our database (the matcher, exports) names a factor. */
export const FactorRef = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z]+:\d{4}:.+$/, { message: () => "must look like SOURCE:YEAR:ID" }),
  Schema.brand("FactorRef"),
)
export type FactorRef = typeof FactorRef.Type

export const factorRef = (source: string, year: number, sourceId: string): FactorRef =>
  FactorRef.make(`${source}:${year}:${sourceId}`)

/**
 * What a factor says about gases and GHG Protocol categories. Optional with null defaults:
 * a factor from a source that publishes none of it is complete without them.
 */
const gasAndCategoryFields = {
  /** kg CO2e of each gas per unit, where the publication breaks the total down; null otherwise. */
  co2Factor: Schema.optionalWith(Schema.NullOr(DecimalString), { default: () => null }),
  ch4Factor: Schema.optionalWith(Schema.NullOr(DecimalString), { default: () => null }),
  n2oFactor: Schema.optionalWith(Schema.NullOr(DecimalString), { default: () => null }),
  /** The global-warming potentials behind the CO2e figures ("IPCC AR5 GWP100"), as the publication states them. */
  gwpSet: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Scope 3 only: the GHG Protocol category 1–15 (ghgCategories.ts). */
  scope3Category: Schema.optionalWith(Schema.NullOr(Schema.Int.pipe(Schema.between(1, 15))), { default: () => null }),
}

/**
 * One factor as published, with its provenance: enough for an auditor to find the row in the
 * publication (`sourceId`), and for the matcher to rank it without a database.
 */
export class CatalogueFactor extends Schema.Class<CatalogueFactor>("CatalogueFactor")({
  ref: FactorRef,
  source: FactorSource,
  sourceId: Schema.NonEmptyTrimmedString,
  year: Schema.Int,
  name: Schema.NonEmptyString,
  activityType: Schema.NonEmptyString,
  categoryPath: Schema.Array(Schema.String),
  scope: Schema.NullOr(Schema.String),
  /** The unit as the publication spells it ("kWh (Net CV)", "Room per night"). */
  unit: Schema.String,
  dimension: UnitDimension,
  factorValue: DecimalString,
  /** What one unit of activity emits: always `kg CO2e` in this catalogue. */
  factorUnit: Schema.String,
  ghgUnit: Schema.String,
  /** ISO 3166-1 alpha-2. */
  geography: Schema.String,
  /** False for well-to-tank and per-gas rows: valid factors, but not the default for an activity. */
  isPrimary: Schema.Boolean,
  licence: Schema.String,
  attribution: Schema.String,
  publication: Schema.String,
  sourceFile: Schema.String,
  ...gasAndCategoryFields,
}) {}

/** A factor as stored, with its database id (hand-entered rows may lack provenance and a dimension). */
export class EmissionFactor extends Schema.Class<EmissionFactor>("EmissionFactor")({
  id: EmissionFactorId,
  ref: FactorRef,
  source: Schema.String,
  sourceId: Schema.String,
  year: Schema.Int,
  name: Schema.String,
  activityType: Schema.String,
  categoryPath: Schema.Array(Schema.String),
  scope: Schema.NullOr(Schema.String),
  unit: Schema.String,
  dimension: Schema.NullOr(UnitDimension),
  factorValue: DecimalString,
  factorUnit: Schema.String,
  ghgUnit: Schema.String,
  geography: Schema.String,
  isPrimary: Schema.Boolean,
  licence: Schema.NullOr(Schema.String),
  attribution: Schema.NullOr(Schema.String),
  publication: Schema.NullOr(Schema.String),
  sourceFile: Schema.NullOr(Schema.String),
  ...gasAndCategoryFields,
  ghgScope: Schema.NullOr(Schema.Int),
  /** The factor set it belongs to, `source:year` ("DESNZ:2023"): generated from the two, so exactly one. */
  factorSet: Schema.String,
  createdAt: Schema.DateFromSelf,
  updatedAt: Schema.DateFromSelf,
}) {}

/** A factor set's id, `SOURCE:YEAR` ("DESNZ:2023", "Ember:2024"). */
export const FactorSetId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z]+:\d{4}$/, { message: () => "must be a factor set such as DESNZ:2023 (source:year)" }),
)

/** One publication year of one source, as the catalogue holds it. */
export class FactorSet extends Schema.Class<FactorSet>("FactorSet")({
  id: Schema.String,
  source: Schema.String,
  year: Schema.Int,
  publication: Schema.NullOr(Schema.String),
  licence: Schema.NullOr(Schema.String),
  attribution: Schema.NullOr(Schema.String),
  sourceFiles: Schema.Array(Schema.String),
  factorCount: Schema.Int,
  /** True while no newer edition of its source replaces it (see `currentFactor` in FactorsRepo.ts): what search shows by default. */
  current: Schema.Boolean,
  loadedAt: Schema.DateFromSelf,
}) {}
