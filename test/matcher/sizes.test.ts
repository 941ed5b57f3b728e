import { bandFit, factorBand, querySize, withoutSizes, type Measure } from "@scopeline/matcher/ranking/sizes"
import { describe, expect, test } from "bun:test"
import fc from "fast-check"

/** How each measure is written in ledgers, and the largest size worth generating. */
const SPELLINGS: Readonly<Record<Measure, { readonly units: ReadonlyArray<string>; readonly max: number }>> = {
  t: { units: ["t", " t", " tonnes", " tonne", "-tonne", " tons"], max: 60 },
  teu: { units: [" TEU", "TEU", " teu"], max: 25_000 },
  dwt: { units: [" dwt", "dwt", " DWT"], max: 400_000 },
  m3: { units: [" m3", " m³"], max: 250_000 },
  ceu: { units: [" CEU"], max: 9_000 },
  lm: { units: [" LM", " lm"], max: 5_000 },
}
const MEASURES = Object.keys(SPELLINGS) as ReadonlyArray<Measure>

const written = (value: number, measure: Measure) => (measure === "t" ? String(value) : value.toLocaleString("en-GB"))

describe("sizes written with symbols and units", () => {
  test("a single size reads back as itself, however its unit is spelled and whatever surrounds it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MEASURES),
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(5),
        fc.constantFrom("Haulier - ", "", "Own fleet ", "Shipment on a "),
        fc.constantFrom(" rigid", " vessel", "", " - Felixstowe"),
        (measure, seed, spelling, before, after) => {
          const { units, max } = SPELLINGS[measure]
          const value = measure === "t" ? Math.round(((seed % 600) / 10) * 10) / 10 || 1 : Math.round((seed / 1000) * max) || 1
          const size = querySize(`${before}${written(value, measure)}${units[spelling % units.length]}${after}`)
          expect(size).toEqual({ measure, lo: value, hi: value, loInclusive: true })
        },
      ),
      { numRuns: 300 },
    )
  })

  test("a range reads back as its two ends, with any dash or 'to' between them", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom("-", "–", " - ", " to ", "—"),
        fc.constantFrom(" TEU", " dwt"),
        (lo, width, dash, unit) => {
          const size = querySize(`Container ship ${lo}${dash}${lo + width}${unit}`)
          expect(size?.lo).toBe(lo)
          expect(size?.hi).toBe(lo + width)
        },
      ),
      { numRuns: 200 },
    )
  })

  test("a size inside a factor's band fits it, one outside does not", () => {
    const bands = [
      "Rigid (>3.5 - 7.5 tonnes)", "Rigid (>7.5 tonnes-17 tonnes)", "Rigid (>17 tonnes)", "Articulated (>3.5 - 33t)",
      "Articulated (>33t)", "Class II (1.305 to 1.74 tonnes)", "Container ship: 1000–1999 TEU", "Container ship: 8000+ TEU",
      "Bulk carrier: 120,000–199,999 dwt", "LNG tanker: 0–199,999 m3",
    ].map((name) => ({ name, band: factorBand(name)! }))
    fc.assert(
      fc.property(fc.constantFrom(...bands), fc.double({ min: 0, max: 1, noNaN: true }), ({ band }, at) => {
        const inside = band.lo + (band.hi - band.lo) * Math.min(0.999, Math.max(0.001, at))
        expect(bandFit({ measure: band.measure, lo: inside, hi: inside, loInclusive: true }, band)).toBe(1)
        const above = band.hi + 1 + at * 10
        expect(bandFit({ measure: band.measure, lo: above, hi: above, loInclusive: true }, band)).toBe(0)
      }),
      { numRuns: 200 },
    )
  })

  test("band edges follow DESNZ: '>7.5 tonnes-17 tonnes' takes 17 but not 7.5, '1000–1999 TEU' takes 1000", () => {
    const rigid = factorBand("Rigid (>7.5 tonnes-17 tonnes)")!
    expect(bandFit(querySize("17t")!, rigid)).toBe(1)
    expect(bandFit(querySize("7.5t")!, rigid)).toBe(0)
    expect(bandFit(querySize("1000 TEU")!, factorBand("Container ship: 1000–1999 TEU")!)).toBe(1)
    expect(bandFit(querySize("999 TEU")!, factorBand("Container ship: 1000–1999 TEU")!)).toBe(0)
  })

  test("words that only look like sizes are not sizes", () => {
    for (const text of ["Calor propane 47kg", "5th floor office", "Unit 4 Leeds", "R-404A top-up", "3 nights", "Q3 2024 totals"]) {
      expect(querySize(text), text).toBeUndefined()
    }
  })

  test("the size's digits and unit leave the words to be matched", () => {
    expect(withoutSizes("Haulier - 44t artic").replace(/\s+/g, " ").trim()).toBe("haulier - artic")
    expect(withoutSizes("Bulk carrier 200,000+ dwt")).not.toMatch(/\d/)
  })
})
