import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { FactorsRepo, FactorSearch } from "@scopeline/catalogue/FactorsRepo"
import { migrate } from "@scopeline/sql/Migrator"
import { plainDecimal } from "@scopeline/catalogue/EmissionFactor"
import { loadCatalogue } from "@scopeline/catalogue/loadCatalogue"
import { readCatalogue } from "@scopeline/catalogue/readCatalogue"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Layer, ManagedRuntime, Option, Redacted, String } from "effect"
import fc from "fast-check"
import { testDatabase } from "../support/postgres.ts"

let runtime: ManagedRuntime.ManagedRuntime<FactorsRepo | SqlClient.SqlClient, unknown>
const run = <A, E>(effect: Effect.Effect<A, E, FactorsRepo | SqlClient.SqlClient>) => runtime.runPromise(effect)

beforeAll(async () => {
  const url = await testDatabase("catalogue")
  const client = PgClient.layer({
    url: Redacted.make(url),
    transformQueryNames: String.camelToSnake,
    transformResultNames: String.snakeToCamel,
  })
  runtime = ManagedRuntime.make(FactorsRepo.Default.pipe(Layer.provideMerge(client)))
  await run(migrate())
})
afterAll(() => runtime.dispose())

const search = (fields: ConstructorParameters<typeof FactorSearch>[0]) =>
  run(Effect.flatMap(FactorsRepo, (repo) => repo.search(FactorSearch.make(fields))))

describe("factor catalogue", () => {
  let firstIds: Map<string, string>

  test("loads every DESNZ kg CO2e total with a value and one Ember factor per country", async () => {
    const report = await run(loadCatalogue())
    expect(report.bySource.DESNZ).toBe(2587)
    expect(report.bySource.Ember).toBe(209)
    expect(report.inserted).toBe(2796)
    const rows = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ ref: string; id: string }>`SELECT ref, id FROM emission_factors`),
    )
    expect(rows.length).toBe(2796)
    firstIds = new Map(rows.map((row) => [row.ref, row.id]))
  })

  test("loading twice keeps the same rows and ids", async () => {
    const report = await run(loadCatalogue())
    expect(report).toMatchObject({ inserted: 0, updated: 0, unchanged: 2796 })
    const rows = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ ref: string; id: string }>`SELECT ref, id FROM emission_factors`),
    )
    expect(rows.length).toBe(2796)
    for (const row of rows) expect(firstIds.get(row.ref)).toBe(row.id)
  })

  test("a scientific-notation value is stored as a plain decimal, the shortest that names the file's double", async () => {
    // 25_300_3044_4_1 is in the file as 7.9332475167785244E-2 (test/catalogue/factor-values.test.ts checks every value).
    const factor = await run(Effect.flatMap(FactorsRepo, (repo) => repo.findByRef("DESNZ:2023:25_300_3044_4_1")))
    expect<string>(Option.getOrThrow(factor).factorValue).toBe("0.07933247516778524")
  })

  test("scientific notation becomes a plain decimal without passing through a float", () => {
    expect(plainDecimal("7.9E-2")).toBe("0.079")
    expect(plainDecimal("1.7915111409395973E-2")).toBe("0.017915111409395973")
    expect(plainDecimal("3033.3806711409397")).toBe("3033.3806711409397")
    expect(plainDecimal("1.5E3")).toBe("1500")
    expect(plainDecimal("abc")).toBeUndefined()
    fc.assert(
      fc.property(fc.double({ min: 1e-12, max: 1e12, noNaN: true }), (x) => {
        expect(Number(plainDecimal(x.toExponential()))).toBe(x)
      }),
      { numRuns: 200 },
    )
  })

  test("every factor carries its provenance", async () => {
    const desnz = Option.getOrThrow(await run(Effect.flatMap(FactorsRepo, (repo) => repo.findByRef("DESNZ:2023:1_100_1000_15_1"))))
    expect(desnz).toMatchObject({
      source: "DESNZ",
      sourceId: "1_100_1000_15_1",
      year: 2023,
      licence: "OGL-UK-3.0",
      ghgUnit: "kg CO2e",
      factorUnit: "kg CO2e",
      scope: "Scope 1",
      unit: "tonnes",
      dimension: "mass",
      geography: "GB",
      isPrimary: true,
      categoryPath: ["Fuels", "Gaseous fuels", "Butane"],
      sourceFile: "desnz_ghg_conversion_factors_2023_flat.csv",
    })
    expect(desnz.attribution).toContain("Open Government Licence v3.0")
    const sg = Option.getOrThrow(await run(Effect.flatMap(FactorsRepo, (repo) => repo.findByRef("Ember:2024:SGP"))))
    expect(sg).toMatchObject({ source: "Ember", geography: "SG", licence: "CC-BY-SA-4.0", scope: "Scope 2", unit: "kWh" })
    expect(sg.name).toBe("Electricity: grid average, Singapore (Ember 2024)")
    const byId = await run(Effect.flatMap(FactorsRepo, (repo) => repo.findById(sg.id)))
    expect<string>(Option.getOrThrow(byId).ref).toBe("Ember:2024:SGP")
    const missing = await run(Effect.flatMap(FactorsRepo, (repo) => repo.findByRef("DESNZ:2023:nope")))
    expect(Option.isNone(missing)).toBe(true)
  })

  test("well-to-tank rows are kept but not primary, and hotel stays carry their country", async () => {
    const wtt = await search({ q: "WTT diesel", limit: 5 })
    expect(wtt.rows.length).toBeGreaterThan(0)
    const all = await Effect.runPromise(readCatalogue())
    for (const factor of all.filter((f) => f.categoryPath.some((level) => level.includes("WTT")))) {
      expect(factor.isPrimary).toBe(false)
    }
    const hotels = await search({ q: "hotel", geography: "MY" })
    expect<ReadonlyArray<string>>(hotels.rows.map((row) => row.ref)).toEqual(["DESNZ:2023:29_600_4030_13_1"])
  })

  test("search filters by text, unit and geography and reports the total", async () => {
    const diesel = await search({ q: "diesel", unit: "litres", limit: 3 })
    expect(diesel.rows.length).toBe(3)
    expect(diesel.total).toBeGreaterThan(3)
    for (const row of diesel.rows) {
      expect(row.unit).toBe("litres")
      expect(row.name.toLowerCase()).toContain("diesel")
    }
    const next = await search({ q: "diesel", unit: "litres", limit: 3, offset: 3 })
    expect(next.total).toBe(diesel.total)
    expect(next.rows.map((r) => r.ref)).not.toContain(diesel.rows[0]!.ref)

    const grid = await search({ q: "electricity", geography: "fr" })
    expect<ReadonlyArray<string>>(grid.rows.map((row) => row.ref)).toContain("Ember:2024:FRA")

    const scope2 = await search({ scope: "Scope 2", source: "Ember", limit: 1 })
    expect(scope2.total).toBe(209)
  })
})
