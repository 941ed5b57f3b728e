import { Data, Either, Option } from "effect"

/**
 * The one registry of activity and factor units. Every unit belongs to a dimension and carries an
 * exact rational factor to the dimension's canonical unit, so matching can ask "can this activity's
 * quantity be expressed in that factor's unit?" and the emissions calculation can convert without
 * accumulating binary-float error (1 MWh is exactly 1000 kWh, 1 US gallon exactly 3.785411784 L).
 */
export type Dimension =
  | "energy"
  | "volume"
  | "mass"
  | "distance"
  | "passenger_distance"
  | "freight"
  | "time_nights"
  | "labour_hours"
  | "area"
  | "count"

export const DIMENSIONS: ReadonlyArray<Dimension> = [
  "energy",
  "volume",
  "mass",
  "distance",
  "passenger_distance",
  "freight",
  "time_nights",
  "labour_hours",
  "area",
  "count",
]

/** Canonical unit symbol of each dimension: the unit every factor in it is convertible to. */
export const CANONICAL: Readonly<Record<Dimension, string>> = {
  energy: "kWh",
  volume: "L",
  mass: "kg",
  distance: "km",
  passenger_distance: "passenger.km",
  freight: "tonne.km",
  time_nights: "night",
  labour_hours: "FTE hour",
  area: "m2",
  count: "item",
}

/** An exact non-negative rational, numerator and denominator as integers. */
export interface Ratio {
  readonly num: bigint
  readonly den: bigint
}

export interface Unit {
  /** The spelling we store and display ("kWh", "L", "tonne.km"). */
  readonly symbol: string
  /** A readable name for messages ("litres"). */
  readonly name: string
  readonly dimension: Dimension
  /** How many canonical units one of this unit is, as a float (for display and quick maths). */
  readonly toCanonical: number
  /** The same factor as an exact ratio; conversions use this. */
  readonly ratio: Ratio
  /** Spellings people type, matched after normalisation (see `normaliseUnitText`). */
  readonly aliases: ReadonlyArray<string>
}

export class DimensionMismatch extends Data.TaggedError("DimensionMismatch")<{
  readonly from: Unit
  readonly to: Unit
}> {
  override get message(): string {
    return `cannot convert ${this.from.name} (${this.from.dimension}) to ${this.to.name} (${this.to.dimension})`
  }
}

/** "3.785411784" → 3785411784 / 10^9, exactly. */
const decimal = (text: string): Ratio => {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text)
  if (!match) throw new Error(`not a plain decimal: ${text}`)
  const fraction = match[2] ?? ""
  return reduce({ num: BigInt(match[1]! + fraction), den: 10n ** BigInt(fraction.length) })
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b))
const reduce = (r: Ratio): Ratio => {
  const g = gcd(r.num, r.den)
  return { num: r.num / g, den: r.den / g }
}
const divide = (a: Ratio, b: Ratio): Ratio => reduce({ num: a.num * b.den, den: a.den * b.num })

/** Joules per kWh: energy units defined in joules are exact ratios, not decimals (1 GJ = 277.77… kWh). */
const J_PER_KWH = decimal("3600000")
const joules = (text: string) => divide(decimal(text), J_PER_KWH)

const ratioToNumber = (r: Ratio): number => Number(r.num) / Number(r.den)

const unit = (
  symbol: string,
  name: string,
  dimension: Dimension,
  ratio: Ratio,
  aliases: ReadonlyArray<string>,
): Unit => ({ symbol, name, dimension, ratio, toCanonical: ratioToNumber(ratio), aliases: [symbol, ...aliases] })

const ONE = decimal("1")

export const UNITS: ReadonlyArray<Unit> = [
  // energy → kWh
  unit("kWh", "kWh", "energy", ONE, ["kilowatt hour", "kilowatt hours", "kilowatt-hour", "kilowatt-hours", "kw h"]),
  unit("Wh", "Wh", "energy", decimal("0.001"), ["watt hour", "watt hours"]),
  unit("MWh", "MWh", "energy", decimal("1000"), ["megawatt hour", "megawatt hours"]),
  unit("GWh", "GWh", "energy", decimal("1000000"), ["gigawatt hour", "gigawatt hours"]),
  unit("MJ", "MJ", "energy", joules("1000000"), ["megajoule", "megajoules"]),
  unit("GJ", "GJ", "energy", joules("1000000000"), ["gigajoule", "gigajoules"]),
  unit("TJ", "TJ", "energy", joules("1000000000000"), ["terajoule", "terajoules"]),
  // The international therm (105.505585262 MJ), as used on UK gas bills.
  unit("therm", "therms", "energy", joules("105505585.262"), ["therms"]),
  unit("MMBtu", "MMBtu", "energy", joules("1055055852.62"), ["mmbtus", "million btu"]),
  // DESNZ publishes fuel factors per kWh on a net and a gross calorific-value basis. Both are
  // energy in kWh; which one applies is a property of the factor, not a conversion.
  unit("kWh (Net CV)", "kWh (net CV)", "energy", ONE, ["kwh net cv", "kwh net", "kwh ncv"]),
  unit("kWh (Gross CV)", "kWh (gross CV)", "energy", ONE, ["kwh gross cv", "kwh gross", "kwh gcv"]),
  // volume → litres
  unit("L", "litres", "volume", ONE, ["l", "ltr", "ltrs", "litre", "litres", "liter", "liters"]),
  unit("mL", "millilitres", "volume", decimal("0.001"), ["millilitre", "millilitres", "milliliter", "milliliters"]),
  unit("kL", "kilolitres", "volume", decimal("1000"), ["kilolitre", "kilolitres", "kiloliter", "kiloliters"]),
  unit("m3", "cubic metres", "volume", decimal("1000"), [
    "m³",
    "cubic metre",
    "cubic metres",
    "cubic meter",
    "cubic meters",
    "cu m",
    "cbm",
  ]),
  unit("million litres", "million litres", "volume", decimal("1000000"), [
    "million litre",
    "million liters",
    "million liter",
    "megalitre",
    "megalitres",
  ]),
  // Plain "gal"/"gallon" stays unknown: US and imperial gallons differ by 20%, so the file must say which.
  unit("US gal", "US gallons", "volume", decimal("3.785411784"), [
    "us gallon",
    "us gallons",
    "us gals",
    "gallon (us)",
    "gallons (us)",
    "gal (us)",
    "gals (us)",
    "gal us",
    "usg",
  ]),
  unit("UK gal", "UK gallons", "volume", decimal("4.54609"), [
    "uk gallon",
    "uk gallons",
    "uk gals",
    "imperial gallon",
    "imperial gallons",
    "imp gal",
    "imp gals",
    "imp gallon",
    "imp gallons",
    "gallon (uk)",
    "gallons (uk)",
    "gal (uk)",
    "gals (uk)",
    "gal uk",
    "gal (imp)",
    "gals (imp)",
    "gallon (imp)",
    "gallons (imp)",
    "gallon (imperial)",
    "gallons (imperial)",
  ]),
  // mass → kg
  unit("kg", "kilograms", "mass", ONE, ["kgs", "kilogram", "kilograms", "kilo", "kilos"]),
  unit("g", "grams", "mass", decimal("0.001"), ["gram", "grams", "gramme", "grammes"]),
  unit("t", "tonnes", "mass", decimal("1000"), ["tonne", "tonnes", "metric ton", "metric tons", "metric tonne", "metric tonnes", "mt"]),
  unit("lb", "pounds", "mass", decimal("0.45359237"), ["lbs", "pound", "pounds"]),
  // distance → km
  unit("km", "kilometres", "distance", ONE, ["kms", "kilometre", "kilometres", "kilometer", "kilometers"]),
  unit("m", "metres", "distance", decimal("0.001"), ["metre", "metres", "meter", "meters"]),
  unit("mi", "miles", "distance", decimal("1.609344"), ["mile", "miles"]),
  // passenger distance → passenger.km
  unit("passenger.km", "passenger kilometres", "passenger_distance", ONE, [
    "pkm",
    "p.km",
    "passenger km",
    "passenger kms",
    "passenger kilometre",
    "passenger kilometres",
    "passenger kilometer",
    "passenger kilometers",
  ]),
  unit("passenger.mile", "passenger miles", "passenger_distance", decimal("1.609344"), [
    "passenger mile",
    "passenger miles",
    "pmi",
  ]),
  // freight → tonne.km
  unit("tonne.km", "tonne kilometres", "freight", ONE, [
    "tkm",
    "t.km",
    "tonne km",
    "tonnes km",
    "tonne kilometre",
    "tonne kilometres",
    "tonne kilometer",
    "tonne kilometers",
  ]),
  // hotel stays → room nights
  unit("night", "room nights", "time_nights", ONE, [
    "nights",
    "room night",
    "room nights",
    "room per night",
    "rooms per night",
    "hotel night",
    "hotel nights",
  ]),
  // homeworking → FTE hours
  unit("FTE hour", "FTE hours", "labour_hours", ONE, [
    "fte hours",
    "fte hr",
    "fte hrs",
    "per fte working hour",
    "fte working hour",
    "fte working hours",
  ]),
  // area → m2
  unit("m2", "square metres", "area", ONE, ["m²", "sqm", "sq m", "square metre", "square metres", "square meter", "square meters"]),
  unit("sq ft", "square feet", "area", decimal("0.09290304"), ["sqft", "square foot", "square feet", "ft2", "ft²"]),
  // count → items
  unit("item", "items", "count", ONE, ["items", "unit", "units", "each", "pcs", "pieces", "piece"]),
]

/**
 * Case-, space-, dot-, hyphen- and bracket-insensitive: "Passenger.km", "passenger km" and
 * "PASSENGER-KM" are one spelling. Superscripts become digits so "m³" is "m3".
 */
export const normaliseUnitText = (text: string): string =>
  text
    .toLowerCase()
    .replaceAll("³", "3")
    .replaceAll("²", "2")
    .replace(/[\s._\-()/]+/g, "")

const byAlias = new Map<string, Unit>()
for (const u of UNITS) {
  for (const alias of u.aliases) {
    const key = normaliseUnitText(alias)
    const existing = byAlias.get(key)
    if (existing && existing !== u) throw new Error(`unit alias "${alias}" is claimed by ${existing.symbol} and ${u.symbol}`)
    byAlias.set(key, u)
  }
}

/**
 * Spellings whose letter case changes the unit by a factor of a million or more. They are decided
 * before the case-insensitive table: "ML" is a megalitre (water bills), never a millilitre; "Mt" is a
 * megatonne, which no activity is measured in, so it is refused rather than read as tonnes.
 */
export const caseSensitive: ReadonlyMap<string, Unit | null> = new Map<string, Unit | null>([
  ["ML", UNITS.find((u) => u.symbol === "million litres") ?? null],
  ["Ml", UNITS.find((u) => u.symbol === "million litres") ?? null],
  ["Mt", null],
])

const lookup = (text: string): Unit | undefined => {
  const exact = caseSensitive.get(text.replace(/\s+/g, ""))
  if (exact !== undefined) return exact ?? undefined
  return byAlias.get(normaliseUnitText(text))
}

export const parseUnit = (text: string): Option.Option<Unit> => Option.fromNullable(lookup(text))

export const isKnownUnit = (text: string): boolean => lookup(text) !== undefined

/** The exact ratio from one unit to another of the same dimension. */
export const conversionRatio = (from: Unit, to: Unit): Either.Either<Ratio, DimensionMismatch> =>
  from.dimension === to.dimension
    ? Either.right(divide(from.ratio, to.ratio))
    : Either.left(new DimensionMismatch({ from, to }))

/**
 * `quantity` in `from` expressed in `to`. The unit ratio is exact; the only float rounding is the
 * final multiplication (and a same-unit conversion is the identity, bit for bit).
 */
export const convert = (quantity: number, from: Unit, to: Unit): Either.Either<number, DimensionMismatch> =>
  Either.map(conversionRatio(from, to), (r) => (r.num === r.den ? quantity : (quantity * Number(r.num)) / Number(r.den)))

/** Whether a quantity in `from` can be expressed in `to` (both given as typed text). */
export const isConvertible = (from: string, to: string): boolean => {
  const a = lookup(from)
  const b = lookup(to)
  return a !== undefined && b !== undefined && a.dimension === b.dimension
}
