import { caseSensitive, convert, DimensionMismatch, isKnownUnit, parseUnit, UNITS, type Unit } from "@scopeline/catalogue/units/Units"
import { describe, expect, test } from "bun:test"
import { Either, Option } from "effect"
import fc from "fast-check"

const RUNS = { numRuns: 200 }
const unitArb = fc.constantFrom(...UNITS)
const quantityArb = fc.double({ min: 1e-6, max: 1e12, noNaN: true, noDefaultInfinity: true })
const sameDimensionPair = unitArb.chain((from) =>
  fc.tuple(fc.constant(from), fc.constantFrom(...UNITS.filter((u) => u.dimension === from.dimension))),
)
const crossDimensionPair = unitArb.chain((from) =>
  fc.tuple(fc.constant(from), fc.constantFrom(...UNITS.filter((u) => u.dimension !== from.dimension))),
)

const unit = (text: string): Unit => Option.getOrThrow(parseUnit(text))
const converted = (q: number, from: string, to: string) => Either.getOrThrow(convert(q, unit(from), unit(to)))

/** Re-spells an alias the way people type it: random letter case, and spaces or dots where words meet. */
const respelled = (alias: string) =>
  fc.tuple(fc.array(fc.boolean(), { minLength: alias.length, maxLength: alias.length }), fc.constantFrom("", " ", "  ", ".")).map(
    ([upper, joiner]) =>
      [...alias].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch.toLowerCase())).join("").replaceAll(" ", joiner || " "),
  )

describe("unit registry", () => {
  test("a quantity converted to another unit of its dimension and back is unchanged (within 1e-9)", () => {
    fc.assert(
      fc.property(sameDimensionPair, quantityArb, ([from, to], q) => {
        const there = Either.getOrThrow(convert(q, from, to))
        const back = Either.getOrThrow(convert(there, to, from))
        expect(Math.abs(back - q) / q).toBeLessThanOrEqual(1e-9)
      }),
      RUNS,
    )
  })

  test("converting across dimensions never returns a number", () => {
    fc.assert(
      fc.property(crossDimensionPair, quantityArb, ([from, to], q) => {
        const result = convert(q, from, to)
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isLeft(result)) expect(result.left).toBeInstanceOf(DimensionMismatch)
      }),
      RUNS,
    )
  })

  test("converting to the same unit is the identity, bit for bit", () => {
    fc.assert(
      fc.property(unitArb, fc.double({ noNaN: true }), (u, q) => {
        expect(Either.getOrThrow(convert(q, u, u))).toBe(q)
      }),
      RUNS,
    )
  })

  test("every alias parses to the unit it names, whatever the case, spacing or dots (except the case-sensitive spellings)", () => {
    const aliasArb = unitArb.chain((u) => fc.tuple(fc.constant(u), fc.constantFrom(...u.aliases)))
    fc.assert(
      fc.property(
        aliasArb
          .chain(([u, alias]) => fc.tuple(fc.constant(u), respelled(alias)))
          // "ML" and "Mt" are decided by their letter case on purpose (see caseSensitive).
          .filter(([, typed]) => !caseSensitive.has(typed.replace(/\s+/g, ""))),
        ([u, typed]) => {
          expect(Option.getOrThrow(parseUnit(typed)).symbol).toBe(u.symbol)
          expect(isKnownUnit(typed)).toBe(true)
        },
      ),
      RUNS,
    )
  })

  test("a dimension mismatch explains itself", () => {
    const result = convert(1, unit("litres"), unit("kWh"))
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) expect(result.left.message).toBe("cannot convert litres (volume) to kWh (energy)")
  })

  test("the spellings DESNZ and activity files use are all known", () => {
    for (const text of [
      "kWh",
      "MWh",
      "GWh",
      "GJ",
      "MJ",
      "therm",
      "therms",
      "L",
      "litres",
      "liters",
      "m3",
      "cubic metres",
      "cubic meters",
      "US gallons",
      "UK gallon",
      "imperial gallons",
      "million litres",
      "kg",
      "g",
      "t",
      "tonnes",
      "metric tons",
      "lb",
      "lbs",
      "km",
      "miles",
      "passenger.km",
      "pkm",
      "passenger km",
      "tonne.km",
      "tkm",
      "nights",
      "room nights",
      "Room per night",
      "FTE hours",
      "per FTE Working Hour",
      "kWh (Net CV)",
      "kWh (Gross CV)",
    ]) {
      expect(isKnownUnit(text)).toBe(true)
    }
    expect(isKnownUnit("furlongs")).toBe(false)
    expect(isKnownUnit("")).toBe(false)
  })

  test("gallons parse only when the file says which gallon", () => {
    for (const text of ["gal (US)", "gal US", "US gallons", "US gal", "gallons (US)", "GAL(US)"]) {
      expect(Option.getOrThrow(parseUnit(text)).symbol).toBe("US gal")
    }
    for (const text of ["gal (UK)", "imp gal", "gal (imp)", "Imperial gallons", "gal UK", "gallons (imperial)"]) {
      expect(Option.getOrThrow(parseUnit(text)).symbol).toBe("UK gal")
    }
    // US and imperial gallons differ by 20%: a bare gallon is ambiguous and stays unknown.
    for (const text of ["gal", "gals", "gallon", "gallons"]) expect(isKnownUnit(text)).toBe(false)
    expect(converted(1, "gal (US)", "L")).toBe(3.785411784)
    expect(converted(1, "gal (imp)", "L")).toBe(4.54609)
  })

  test("decimal factors are exact", () => {
    expect(converted(1, "US gallon", "L")).toBe(3.785411784)
    expect(converted(1, "imperial gallon", "litres")).toBe(4.54609)
    expect(converted(88.4, "MWh", "kWh")).toBe(88400)
    expect(converted(1, "mile", "km")).toBe(1.609344)
    expect(converted(1, "lb", "kg")).toBe(0.45359237)
    expect(converted(1, "GJ", "MJ")).toBe(1000)
    expect(converted(3.6, "MJ", "kWh")).toBe(1)
    expect(converted(1820, "m3", "million litres")).toBe(1.82)
    expect(converted(2, "kWh (Gross CV)", "kWh")).toBe(2)
  })
})

describe("letter case that changes the unit by a million", () => {
  test("ML is a megalitre, mL and ml are millilitres", () => {
    expect(Option.getOrThrow(parseUnit("ML")).symbol).toBe("million litres")
    expect(Option.getOrThrow(parseUnit("mL")).symbol).toBe("mL")
    expect(Option.getOrThrow(parseUnit("ml")).symbol).toBe("mL")
  })

  test("Mt (megatonne) is refused rather than read as tonnes; MT and mt stay metric tonnes", () => {
    expect(Option.isNone(parseUnit("Mt"))).toBe(true)
    expect(Option.getOrThrow(parseUnit("MT")).symbol).toBe("t")
    expect(Option.getOrThrow(parseUnit("mt")).symbol).toBe("t")
  })
})
