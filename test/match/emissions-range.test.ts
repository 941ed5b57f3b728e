import { SqlClient } from "@effect/sql"
import { migrate, MIGRATIONS_DIR } from "@scopeline/sql/Migrator"
import { EMISSIONS_LIMIT_TEXT, MAX_ACTIVITY_EMISSIONS_KG } from "@scopeline/catalogue/units/QuantityRange"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Effect } from "effect"
import fc from "fast-check"
import { cpSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { apiClient, type ApiClient } from "../support/api.ts"
import { runWith } from "../support/effect.ts"
import { dieselFactor, insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { testDatabase } from "../support/postgres.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { activitiesOf, catalogueDatabase, createUpload, matcherStats, scenario, theCatalogue, type ActivityInput, type Scenario } from "./support.ts"

/**
 * One activity's emissions are bounded (MAX_ACTIVITY_EMISSIONS_KG, 1e15 kg CO2e) however large its
 * quantity, unit and factor, so no total can overflow a double and come out of the API as null.
 */

let s: Scenario
let server: TestServer
let viewer: ApiClient
beforeAll(async () => {
  await Promise.all([catalogueDatabase(), theCatalogue()])
  s = await scenario()
  server = await startServer({ DATABASE_URL: s.databaseUrl })
  await seedDemo(s.databaseUrl)
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
}, 120_000)
afterAll(async () => {
  await server?.stop()
  await s?.dispose()
})

const ELECTRICITY: ActivityInput = { description: "Store electricity - Tampines outlet", quantity: "1200", unit: "kWh", geography: "SG" }
const DIESEL: ActivityInput = { description: "Diesel for delivery vans", quantity: "40", unit: "litres", geography: "SG" }
const TOO_LARGE = `The calculated emissions exceed ${EMISSIONS_LIMIT_TEXT}`

interface TotalsJson {
  total: { quantity: number | null; activities: number }
  by_scope: ReadonlyArray<{ quantity: number | null; activities: number }>
  by_category: ReadonlyArray<{ quantity: number | null; activities: number }>
  by_month: ReadonlyArray<{ quantity: number | null; activities: number }>
}
const totals = async (query = "") => {
  const response = await viewer.get(`/v1/emissions/totals${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as TotalsJson
}

/** Every calculated activity's emissions (per upload or the tenant's), as the API's doubles. */
const calculatedEmissions = (uploadId?: string) =>
  s.run(
    Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ emissions: string }>`
      SELECT emissions::text AS emissions FROM activities
      WHERE status = 'calculated' AND emissions IS NOT NULL ${uploadId === undefined ? sql`` : sql`AND upload_id = ${uploadId}`}`),
  ).then((rows) => rows.map((row) => Number(row.emissions)))

const closeTo = (actual: number, expected: ReadonlyArray<number>) => {
  const sum = expected.reduce((acc, x) => acc + x, 0)
  const scale = expected.reduce((acc, x) => acc + Math.abs(x), 0)
  return Math.abs(actual - sum) <= 1e-9 * Math.max(1, scale)
}

describe("an activity whose emissions would pass 1e15 kg CO2e", () => {
  test("fails with the reason, whether the matcher's answer or the cache priced it, and stays out of the totals", async () => {
    // 1e12 GWh is within the quantity range; times 10^6 kWh/GWh and the grid factor it is ~4e17 kg.
    const rows = [{ ...ELECTRICITY, quantity: "1e12", unit: "GWh" }, { ...ELECTRICITY, quantity: "100", unit: "MWh" }]
    const viaMatcher = await s.run(createUpload(rows))
    await s.match(viaMatcher)
    s.matcher.resetStats()
    const viaCache = await s.run(createUpload(rows))
    await s.match(viaCache)
    expect((await matcherStats(s.matcher)).requests).toBe(0)
    for (const upload of [viaMatcher, viaCache]) {
      const [huge, normal] = await s.run(activitiesOf(upload))
      expect(huge).toMatchObject({ status: "failed", failureKind: "invalid", emissions: null, factorRef: null })
      expect(huge!.failureReason).toStartWith(TOO_LARGE)
      expect(normal!.status).toBe("calculated")
      const body = await totals(`?upload_id=${upload}`)
      expect(body.total.activities).toBe(1)
      expect(body.total.quantity).toBe(Number(normal!.emissions))
    }
  }, 30_000)

  test("is never stored: the table holds at most 1e15 kg CO2e per activity, and refuses Infinity and NaN", async () => {
    const upload = await s.run(createUpload([{ ...DIESEL, quantity: "1" }]))
    await s.match(upload)
    const write = (value: string) =>
      s.run(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`UPDATE activities SET emissions = ${value}::numeric WHERE upload_id = ${upload}`).pipe(
          Effect.either,
        ),
      )
    expect((await write(MAX_ACTIVITY_EMISSIONS_KG))._tag).toBe("Right")
    for (const value of ["1000000000000000.1", "1e308", "Infinity", "NaN", "-2e15"]) {
      const refused = await write(value)
      expect(refused._tag).toBe("Left")
      expect(JSON.stringify(refused)).toContain("activities_emissions_range")
    }
    await write("1")
  }, 30_000)
})

// --- property: totals are never null, and they are the sum of the activities ----------------------

/**
 * Quantities straight into the table, as the parser's range never saw them (rows stored before it
 * existed, any other writer): every double the old parser let through, from 0 to 1.8e308, and 1e-400.
 */
const storedQuantity = fc.oneof(
  fc.constantFrom("0", "1e-400", "5e-324", "1e-9", "1e12", "4e14", "1e15", "1e308", "1.7976931348623157e308"),
  fc.double({ min: 0, max: 1e16, noNaN: true }).map(String),
  fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }).map(String),
)
const KINDS: ReadonlyArray<Omit<ActivityInput, "quantity">> = [
  { ...ELECTRICITY, unit: "kWh" },
  { ...ELECTRICITY, unit: "GWh" },
  { ...DIESEL, unit: "litres" },
  { ...DIESEL, unit: "million litres" },
  { description: "Natural gas for boilers", unit: "kWh", geography: "GB" },
]
const generatedRow = fc.record({ kind: fc.constantFrom(...KINDS), quantity: storedQuantity }).map(({ kind, quantity }) => ({ ...kind, quantity }))

describe("properties (fast-check, 100 runs)", () => {
  test("whatever the quantities, GET /v1/emissions/totals is finite, never null, and the sum of the calculated activities", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(generatedRow, { minLength: 1, maxLength: 8 }), async (rows) => {
        const upload = await s.run(createUpload(rows))
        await s.match(upload)
        for (const row of await s.run(activitiesOf(upload))) {
          expect(row.status === "calculated" || (row.status === "failed" && row.failureKind === "invalid")).toBe(true)
          if (row.status === "failed") expect(row.failureReason).toStartWith(TOO_LARGE)
          else expect(Math.abs(Number(row.emissions))).toBeLessThanOrEqual(Number(MAX_ACTIVITY_EMISSIONS_KG))
        }
        for (const [query, uploadId] of [[`?upload_id=${upload}`, upload], ["", undefined]] as const) {
          const body = await totals(query)
          const lines = [body.total, ...body.by_scope, ...body.by_category, ...body.by_month]
          for (const line of lines) expect(typeof line.quantity === "number" && Number.isFinite(line.quantity)).toBe(true)
          const emissions = await calculatedEmissions(uploadId)
          expect(body.total.activities).toBe(emissions.length)
          expect(closeTo(body.total.quantity!, emissions)).toBe(true)
          for (const grouping of [body.by_scope, body.by_category, body.by_month]) {
            expect(closeTo(grouping.reduce((acc, line) => acc + line.quantity!, 0), [body.total.quantity!])).toBe(true)
          }
        }
      }),
      { numRuns: 100 },
    )
  }, 120_000)
})

describe("emissions stored before the range existed", () => {
  test("are failed by migration 14, which also gives the table its bound, so the tenant's totals are numbers again", async () => {
    const before = mkdtempSync(join(tmpdir(), "migrations-"))
    cpSync(MIGRATIONS_DIR, before, { recursive: true })
    rmSync(join(before, "0014_emissions_range.sql"))
    const databaseUrl = await testDatabase()
    const run = runWith(sqlLayer(databaseUrl))
    await run(migrate(before))
    await seedDemo(databaseUrl)
    const sql = testSql(databaseUrl)
    try {
      const factor = await insertFactor(sql, dieselFactor)
      const upload = await insertUpload(sql, "accountant@demo.scopeline.dev")
      const priced = { unit: "litres", date: "2024-01-01", status: "calculated", factorId: factor, confidence: "0.9", matchSource: "cache" } as const
      await insertActivities(sql, upload, [
        { ...priced, description: "Diesel, fine", quantity: "10", emissions: "25.1279" },
        { ...priced, description: "Diesel, 1e308 litres", quantity: "1e308", emissions: `2.51279e308` },
      ])
      await run(migrate())
      const rows = (await sql`
        SELECT raw_description, status::text AS status, failure_kind, failure_reason, emissions::text AS emissions, matched_factor_id
        FROM activities ORDER BY row_number`) as Array<Record<string, string | null>>
      expect(rows[0]).toMatchObject({ status: "calculated", emissions: "25.1279" })
      expect(rows[1]).toMatchObject({ status: "failed", failure_kind: "invalid", emissions: null, matched_factor_id: null })
      expect(rows[1]!.failure_reason).toStartWith(TOO_LARGE)
      const [sum] = (await sql`SELECT sum(emissions)::text AS kg FROM activities WHERE status = 'calculated'`) as Array<{ kg: string }>
      expect(Number(sum!.kg)).toBe(25.1279)
    } finally {
      await sql.close()
      rmSync(before, { recursive: true })
    }
  }, 30_000)

  test("were the bound ever bypassed, the totals endpoint fails loudly instead of answering a null total", async () => {
    const bypassed = await startServer()
    const sql = testSql(bypassed.databaseUrl)
    try {
      await seedDemo(bypassed.databaseUrl)
      await sql`ALTER TABLE activities DROP CONSTRAINT activities_emissions_range`
      const factor = await insertFactor(sql, dieselFactor)
      const upload = await insertUpload(sql, "accountant@demo.scopeline.dev")
      const huge = { quantity: "1e308", unit: "litres", date: "2024-01-01", status: "calculated", factorId: factor, emissions: "1e308" } as const
      await insertActivities(sql, upload, [{ ...huge, description: "a" }, { ...huge, description: "b" }])
      const api = await apiClient(bypassed.url, "viewer@demo.scopeline.dev")
      const response = await api.get("/v1/emissions/totals")
      expect(response.status).toBe(500)
      expect(await response.text()).not.toContain('"quantity":null')
    } finally {
      await sql.close()
      await bypassed.stop()
    }
  }, 30_000)
})
