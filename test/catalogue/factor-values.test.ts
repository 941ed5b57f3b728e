import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "@effect/sql"
import { FactorsRepo } from "@scopeline/catalogue/FactorsRepo"
import { publishedDecimal } from "@scopeline/catalogue/EmissionFactor"
import { loadCatalogue } from "@scopeline/catalogue/loadCatalogue"
import { DESNZ_FILE, EMBER_FILE, FACTORS_DIR } from "@scopeline/catalogue/readCatalogue"
import { migrate } from "@scopeline/sql/Migrator"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { parse } from "csv-parse/sync"
import { Effect, Layer, ManagedRuntime, Redacted, String as Str } from "effect"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { testDatabase } from "../support/postgres.ts"

let runtime: ManagedRuntime.ManagedRuntime<FactorsRepo | SqlClient.SqlClient, unknown>

beforeAll(async () => {
  const url = await testDatabase("factor_values")
  const client = PgClient.layer({ url: Redacted.make(url), transformQueryNames: Str.camelToSnake, transformResultNames: Str.snakeToCamel })
  runtime = ManagedRuntime.make(FactorsRepo.Default.pipe(Layer.provideMerge(client)))
  await runtime.runPromise(migrate())
  await runtime.runPromise(loadCatalogue())
}, 60_000)
afterAll(() => runtime?.dispose())

/** Every raw value cell of the two files, keyed the way the catalogue names a factor. */
const fileValues = (): Map<string, string> => {
  const values = new Map<string, string>()
  const desnz = parse(readFileSync(join(FACTORS_DIR, DESNZ_FILE)), { columns: true, bom: true }) as Array<Record<string, string>>
  for (const row of desnz) values.set(`DESNZ:2023:${row.ID}`, row["GHG Conversion Factor 2023"]!.trim())
  const ember = parse(readFileSync(join(FACTORS_DIR, EMBER_FILE)), { columns: true, bom: true }) as Array<Record<string, string>>
  for (const row of ember) values.set(`Ember:${row.year}:${row.key}`, row.kgco2e_per_kwh!.trim())
  return values
}

const significantDigits = (decimal: string) => decimal.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "").length

/**
 * Shortest, checked without the code under test: the closest decimal with one digit fewer must
 * read back as another double. (If any shorter decimal named the same double, the closest one of
 * n-1 digits would too.)
 */
const isShortestFor = (decimal: string, double: number) => {
  const digits = significantDigits(decimal)
  return digits <= 1 || Number(double.toPrecision(digits - 1)) !== double
}

describe("factor values", () => {
  test("every stored factor value is the shortest decimal that reads back as the file's double", async () => {
    const rows = await runtime.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ ref: string; value: string }>`SELECT ref, factor_value::text AS value FROM emission_factors`),
    )
    const file = fileValues()
    expect(rows.length).toBeGreaterThan(2700)
    const wrong: string[] = []
    for (const { ref, value } of rows) {
      const raw = file.get(ref)
      const double = Number(raw)
      // NUMERIC keeps trailing zeros of a scale it was given; the value we store has none.
      if (raw === undefined || !/^-?\d+(\.\d*[1-9])?$/.test(value) || Number(value) !== double || !isShortestFor(value, double)) {
        wrong.push(`${ref}: file ${raw}, stored ${value}`)
      }
    }
    expect(wrong).toEqual([])
  })

  test("every stored gas part (CO2, CH4, N2O) is the shortest decimal of its own row's double", async () => {
    const rows = await runtime.runPromise(
      Effect.flatMap(
        SqlClient.SqlClient,
        (sql) => sql<{ ref: string; co2: string | null; ch4: string | null; n2o: string | null }>`
          SELECT ref, co2_factor::text AS co2, ch4_factor::text AS ch4, n2o_factor::text AS n2o FROM emission_factors WHERE source = 'DESNZ'`,
      ),
    )
    const file = fileValues()
    const wrong: string[] = []
    let parts = 0
    for (const row of rows) {
      // DESNZ numbers a total …_1 and its CO2, CH4 and N2O rows …_2, …_3, …_4.
      const base = row.ref.replace(/_1$/, "")
      for (const [suffix, value] of [["_2", row.co2], ["_3", row.ch4], ["_4", row.n2o]] as const) {
        if (value === null) continue
        parts++
        const raw = file.get(`${base}${suffix}`)
        const double = Number(raw)
        if (raw === undefined || !/^-?\d+(\.\d*[1-9])?$/.test(value) || Number(value) !== double || !isShortestFor(value, double)) {
          wrong.push(`${base}${suffix}: file ${raw}, stored ${value}`)
        }
      }
    }
    expect(parts).toBeGreaterThan(1000)
    expect(wrong).toEqual([])
  })

  test("the figures the publication prints come back, not the spreadsheet's 17 digits", async () => {
    const valueOf = (ref: string) =>
      runtime.runPromise(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ value: string }>`SELECT factor_value::text AS value FROM emission_factors WHERE ref = ${ref}`),
      )
    // In the file: 752.02760000000001 and 7.9332475167785244E-2.
    expect(await valueOf("DESNZ:2023:11_101_1012_15_1")).toEqual([{ value: "752.0276" }])
    expect(await valueOf("DESNZ:2023:25_300_3044_4_1")).toEqual([{ value: "0.07933247516778524" }])
  })

  test("a cell that is not a finite double is refused, not stored as Infinity or 0", () => {
    expect(publishedDecimal("1E400")).toBeUndefined()
    expect(publishedDecimal("1E-400")).toBeUndefined()
    expect(publishedDecimal("abc")).toBeUndefined()
    expect(publishedDecimal("0")).toBe("0")
    expect(publishedDecimal("1.0000000E-7")).toBe("0.0000001")
  })

  test("any double printed with 17 digits comes back as its shortest form (property)", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-9, max: 1e9, noNaN: true }), (x) => {
        const value = publishedDecimal(x.toPrecision(17))!
        expect(Number(value)).toBe(x)
        expect(isShortestFor(value, x)).toBe(true)
        expect(value).toMatch(/^\d+(\.\d+)?$/)
      }),
      { numRuns: 300 },
    )
  })
})
