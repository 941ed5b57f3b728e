import { describe, expect, test } from "bun:test"
import {
  DESNZ_GWP_SET,
  desnzScope3Category,
  readCatalogue,
  refinedScope3Category,
  scope3CategoryAliases,
  type CatalogueFactor,
} from "@scopeline/catalogue"
import { Effect } from "effect"
import fc from "fast-check"

const factors = await Effect.runPromise(readCatalogue())
const byRef = new Map<string, CatalogueFactor>(factors.map((factor) => [factor.ref, factor]))
const desnz = factors.filter((factor) => factor.source === "DESNZ")

describe("per-gas parts of the DESNZ factors", () => {
  test("a total row carries the CO2, CH4 and N2O rows the file publishes for it", () => {
    const butane = byRef.get("DESNZ:2023:1_100_1000_15_1")!
    expect(String(butane.factorValue)).toBe("3033.3806711409397")
    expect([butane.co2Factor, butane.ch4Factor, butane.n2oFactor].map(String)).toEqual(["3029.26", "2.5200000000000005", "1.6006711409395973"])
    expect(butane.gwpSet).toBe(DESNZ_GWP_SET)
  })

  test("1,278 totals have a breakdown and the per-gas rows are never factors of their own", () => {
    expect(desnz.filter((factor) => factor.co2Factor !== null).length).toBe(1278)
    expect(desnz.every((factor) => factor.ghgUnit === "kg CO2e")).toBe(true)
    expect(desnz.length).toBe(2587)
  })

  test("refrigerants have no breakdown: their HFCs are all 'other'", () => {
    const r134a = desnz.find((factor) => factor.sourceId === "3_200_2024_3_1")!
    expect(String(r134a.factorValue)).toBe("1300")
    expect(r134a.co2Factor).toBeNull()
  })

  test("Ember grid factors are CO2e only, and say that no GWP set is stated", () => {
    const ember = factors.filter((factor) => factor.source === "Ember")
    expect(ember.length).toBeGreaterThan(200)
    expect(ember.every((factor) => factor.co2Factor === null && factor.ch4Factor === null && factor.n2oFactor === null)).toBe(true)
    expect(ember.every((factor) => factor.gwpSet === "not stated by the publication (CO2e only)" && factor.scope3Category === null)).toBe(true)
  })
})

describe("GHG Protocol scope 3 categories", () => {
  const categoryOf = (level1: string) => new Set(desnz.filter((f) => f.categoryPath[0] === level1).map((f) => f.scope3Category))

  test("follow the documented mapping from DESNZ's Level 1", () => {
    expect(categoryOf("Business travel- air")).toEqual(new Set([6]))
    expect(categoryOf("Hotel stay")).toEqual(new Set([6]))
    expect(categoryOf("Freighting goods")).toEqual(new Set([4]))
    expect(categoryOf("Waste disposal")).toEqual(new Set([5]))
    expect(categoryOf("Material use")).toEqual(new Set([1]))
    expect(categoryOf("WTT- fuels")).toEqual(new Set([3]))
    expect(categoryOf("Transmission and distribution")).toEqual(new Set([3]))
    expect(categoryOf("UK electricity T&D for EVs")).toEqual(new Set([3]))
    expect(categoryOf("Fuels")).toEqual(new Set([null]))
  })

  test("every DESNZ scope 3 factor has a category and no scope 1 or 2 factor has one", () => {
    expect(desnz.filter((f) => f.scope === "Scope 3" && f.scope3Category === null).map((f) => f.ref)).toEqual([])
    expect(desnz.filter((f) => f.scope !== "Scope 3" && f.scope3Category !== null).map((f) => f.ref)).toEqual([])
    expect(desnzScope3Category("Scope 1", "Business travel- air")).toBeNull()
  })

  test("an activity's category text refines only when it names a category", () => {
    expect(refinedScope3Category("Downstream transportation")).toBe(9)
    expect(refinedScope3Category("3.6")).toBe(6)
    expect(refinedScope3Category("Cat 7")).toBe(7)
    expect(refinedScope3Category("Scope 3 category 12")).toBe(12)
    expect(refinedScope3Category("business travel")).toBe(6)
    expect(refinedScope3Category("travel")).toBeNull()
    expect(refinedScope3Category("waste")).toBeNull()
    expect(refinedScope3Category("16")).toBeNull()
    expect(refinedScope3Category(null)).toBeNull()
  })

  test("the aliases SQL joins against agree with the function for any text (property)", () => {
    const table = new Map<string, number>()
    for (const [alias, category] of scope3CategoryAliases()) if (!table.has(alias)) table.set(alias, category)
    const normalise = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim()
    const texts = fc.oneof(
      fc.string(),
      fc.constantFrom(...[...table.keys()]).chain((alias) => fc.constantFrom(alias, alias.toUpperCase(), ` ${alias.replaceAll(" ", "-")}.`)),
    )
    fc.assert(
      fc.property(texts, (text) => {
        expect(table.get(normalise(text)) ?? null).toBe(refinedScope3Category(text))
      }),
      { numRuns: 300 },
    )
  })
})
