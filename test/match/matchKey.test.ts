import { matchKey, normaliseDescription } from "@scopeline/matching/matchKey"
import { UNITS } from "@scopeline/catalogue/units/Units"
import { describe, expect, test } from "bun:test"
import { Option } from "effect"
import fc from "fast-check"

const description = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("Store electricity - Tampines outlet", "  DIESEL,  for vans!! ", "'Gas' | boiler;", "2.5t truck / 50% load"),
)
const geography = fc.option(fc.constantFrom("SG", "gb", " us ", ""), { nil: null })
const unit = fc.constantFrom(...UNITS)

describe("match keys", () => {
  test("the example row gets the documented key", () => {
    const key = matchKey("Store electricity - Tampines outlet", "kilowatt hours", "SG")
    expect(Option.getOrThrow(key).key).toBe("store electricity - tampines outlet|kWh|SG")
  })

  test("case, spacing, punctuation noise and unit spelling do not change the key", () => {
    const a = Option.getOrThrow(matchKey("  Diesel   for delivery vans!! ", "litres", "sg"))
    const b = Option.getOrThrow(matchKey("'diesel for DELIVERY vans'", "L", "SG"))
    expect(a.key).toBe(b.key)
    expect(a.key).toBe("diesel for delivery vans|L|SG")
  })

  test("a unit the registry does not know gives no key", () => {
    expect(Option.isNone(matchKey("Electricity", "furlongs", null))).toBe(true)
  })

  test("normalising a description is idempotent", () => {
    fc.assert(
      fc.property(description, (text) => {
        const once = normaliseDescription(text)
        expect(normaliseDescription(once)).toBe(once)
      }),
      { numRuns: 500 },
    )
  })

  test("a key built from an already-normalised description is the same key", () => {
    fc.assert(
      fc.property(description, unit, geography, (text, u, geo) => {
        const first = Option.getOrThrow(matchKey(text, u.symbol, geo))
        const again = Option.getOrThrow(matchKey(first.description, u.symbol, first.geography))
        expect(again.key).toBe(first.key)
      }),
      { numRuns: 300 },
    )
  })

  test("keys differ when the units are of different dimensions", () => {
    fc.assert(
      fc.property(
        description,
        geography,
        unit,
        unit,
        (text, geo, a, b) => {
          fc.pre(a.dimension !== b.dimension)
          const keyA = Option.getOrThrow(matchKey(text, a.aliases[a.aliases.length - 1]!, geo)).key
          const keyB = Option.getOrThrow(matchKey(text, b.symbol, geo)).key
          expect(keyA).not.toBe(keyB)
        },
      ),
      { numRuns: 300 },
    )
  })

  test("the key separator never survives inside a description", () => {
    fc.assert(
      fc.property(description, (text) => {
        expect(normaliseDescription(text)).not.toContain("|")
      }),
      { numRuns: 200 },
    )
  })
})
