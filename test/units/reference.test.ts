import { conversionRatio, parseUnit, type Unit } from "@scopeline/catalogue/units/Units"
import { describe, expect, test } from "bun:test"
import { Either, Option } from "effect"

/**
 * Conversions against published definitions, written out by hand. The round-trip properties in
 * units.test.ts hold for any self-consistent registry, a wrong one included (MWh = 100 kWh round-trips
 * perfectly): this table is what ties the registry to the real units. Ratios are exact fractions.
 */
const REFERENCE: ReadonlyArray<readonly [from: string, to: string, num: bigint, den: bigint, source: string]> = [
  ["MWh", "kWh", 1000n, 1n, "SI prefixes"],
  ["GWh", "kWh", 1_000_000n, 1n, "SI prefixes"],
  ["Wh", "kWh", 1n, 1000n, "SI prefixes"],
  ["kWh", "MJ", 36n, 10n, "1 kWh = 3.6 MJ (definition of the watt-hour)"],
  ["GJ", "kWh", 2500n, 9n, "1 GJ = 10^9 J / 3.6×10^6 J"],
  ["therm", "MJ", 105_505_585_262n, 1_000_000_000n, "international therm = 105.505585262 MJ"],
  ["L", "m3", 1n, 1000n, "1 L = 1 dm3"],
  ["mL", "L", 1n, 1000n, "SI prefixes"],
  ["US gal", "L", 3_785_411_784n, 1_000_000_000n, "US gallon = 231 in3 = 3.785411784 L"],
  ["UK gal", "L", 454_609n, 100_000n, "imperial gallon = 4.54609 L (Weights and Measures Act 1985)"],
  ["t", "kg", 1000n, 1n, "tonne = 1000 kg"],
  ["g", "kg", 1n, 1000n, "SI prefixes"],
  ["lb", "kg", 45_359_237n, 100_000_000n, "international pound = 0.45359237 kg"],
  ["mi", "km", 1_609_344n, 1_000_000n, "international mile = 1.609344 km"],
  ["m", "km", 1n, 1000n, "SI prefixes"],
  ["passenger.mile", "passenger.km", 1_609_344n, 1_000_000n, "international mile"],
  ["sq ft", "m2", 9_290_304n, 100_000_000n, "1 ft = 0.3048 m, squared"],
]

const unit = (text: string): Unit => Option.getOrThrow(parseUnit(text))
const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : gcd(b, a % b))
const reduced = (num: bigint, den: bigint) => {
  const g = gcd(num, den)
  return `${num / g}/${den / g}`
}

describe("unit conversions match their published definitions exactly", () => {
  for (const [from, to, num, den, source] of REFERENCE) {
    test(`1 ${from} = ${reduced(num, den)} ${to} (${source})`, () => {
      const ratio = Either.getOrThrow(conversionRatio(unit(from), unit(to)))
      expect(reduced(ratio.num, ratio.den)).toBe(reduced(num, den))
    })
  }
})
