import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

interface Inventory {
  period: { from: string | null; to: string | null }
  unit: string
  scope_2_method: string
  total: number
  by_scope: Record<"1" | "2" | "3" | "unassigned", number>
  scope3_by_category: Array<{ category: number | null; name: string; kg_co2e: number }>
  by_category: Array<{ category: string; kg_co2e: number; activities: number }>
  by_month: Array<{ month: string | null; kg_co2e: number; by_scope: Record<"1" | "2" | "3" | "unassigned", number> }>
  by_gas: { co2: number; ch4: number; n2o: number; other: number }
  coverage: { activities: number; calculated: number; failed: number; pending: number; needs_review: number; percent_calculated: number }
}

let server: TestServer
let sql: SQL
let api: ApiClient
let mainUpload: string
let otherUpload: string

/** Whole grams, so sums compare exactly (the API's figures are kg with at most 3 decimals). */
const g = (kg: number) => Math.round(kg * 1000)
const sumG = (values: ReadonlyArray<number>) => values.reduce((sum, kg) => sum + g(kg), 0)

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  const diesel = await insertFactor(sql, {
    name: "Diesel", unit: "litres", factorValue: "2.51279", scope: "Scope 1", categoryPath: ["Fuels"],
    co2Factor: "2.4", ch4Factor: "0.01", n2oFactor: "0.03",
  })
  const grid = await insertFactor(sql, { name: "Grid SG", unit: "kWh", factorValue: "0.4", source: "Ember", scope: "Scope 2", categoryPath: ["Electricity"] })
  const flights = await insertFactor(sql, {
    name: "Flights", unit: "passenger.km", factorValue: "0.15", scope: "Scope 3", categoryPath: ["Business travel- air"], scope3Category: 6,
    co2Factor: "0.149", ch4Factor: "0.0002", n2oFactor: "0.0008",
  })
  const freight = await insertFactor(sql, { name: "HGV", unit: "tonne.km", factorValue: "0.1", scope: "Scope 3", categoryPath: ["Freighting goods"], scope3Category: 4 })
  const wtt = await insertFactor(sql, { name: "WTT diesel", unit: "litres", factorValue: "0.60001", scope: "Scope 3", categoryPath: ["WTT- fuels"], scope3Category: 3 })

  mainUpload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "q1.csv" })
  otherUpload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "store.csv" })
  const calc = { status: "calculated" as const, matchSource: "ai" as const, confidence: "0.9" }
  await insertActivities(sql, mainUpload, [
    { ...calc, description: "Diesel vans", quantity: "100", unit: "litres", date: "2024-01-15", factorId: diesel, emissions: "251.279",
      emissionsCo2: "240", emissionsCh4: "1", emissionsN2o: "3", category: "fleet", extra: { site: "Depot" } },
    // Three activities under half a gram each: rounded one by one they would vanish from every total.
    ...[1, 2, 3].map((n) => ({ ...calc, description: `Generator test ${n}`, quantity: "0.00016", unit: "litres", date: "2024-01-20",
      factorId: diesel, emissions: "0.0004", category: "generator", extra: { site: "Depot" } })),
    { ...calc, description: "Flights", quantity: "1000", unit: "passenger.km", date: "2024-02-20", factorId: flights, emissions: "150",
      emissionsCo2: "149", emissionsCh4: "0.2", emissionsN2o: "0.8", category: "travel" },
    { ...calc, description: "Inbound freight", quantity: "500", unit: "tonne.km", date: "2024-03-05", factorId: freight, emissions: "50", category: "logistics" },
    // The activity's category names a GHG Protocol category: freight delivered to customers is 9, not 4.
    { ...calc, description: "Deliveries to customers", quantity: "100", unit: "tonne.km", date: "2024-03-05", factorId: freight, emissions: "10",
      category: "Downstream transportation" },
    { ...calc, description: "WTT of van diesel", quantity: "100", unit: "litres", date: "2024-03-31", factorId: wtt, emissions: "60.001", category: "fleet" },
    { description: "Widgets", quantity: "3", unit: "kg", date: "2024-02-01", status: "failed", failureReason: "No factor fits kg widgets." },
    { description: "Paper", quantity: "3", unit: "kg", date: "2024-03-01", status: "matching" },
  ])
  // Two sites, and the main upload's activities with extra.site "Depot" assigned to the first, as the
  // parser does with a file's site codes.
  await sql`INSERT INTO sites (code, name, country, limit_period) VALUES ('DEPOT-1', 'Depot', 'SG', 'year'), ('STORE-1', 'Store', 'SG', 'year')`
  await insertActivities(sql, otherUpload, [
    { ...calc, description: "Store electricity", quantity: "1000", unit: "kWh", date: "2024-02-10", factorId: grid, emissions: "400",
      category: "electricity", extra: { site: "Store" } },
    { ...calc, description: "Diesel last year", quantity: "2", unit: "litres", date: "2023-12-31", factorId: diesel, emissions: "5", category: "fleet" },
  ])
})
beforeAll(async () => {
  await sql`UPDATE activities SET site_id = (SELECT id FROM sites WHERE code = 'DEPOT-1') WHERE extra->>'site' = 'Depot'`
  await sql`UPDATE activities SET site_id = (SELECT id FROM sites WHERE code = 'STORE-1') WHERE extra->>'site' = 'Store'`
})
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

const inventory = async (query: string): Promise<Inventory> => {
  const response = await api.get(`/v1/inventory${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Inventory
}

/** Every breakdown the API returns adds up to its parent, to the gram. */
const expectPartsAddUp = (report: Inventory) => {
  const total = g(report.total)
  expect(sumG(Object.values(report.by_scope))).toBe(total)
  expect(sumG(Object.values(report.by_gas))).toBe(total)
  expect(sumG(report.by_category.map((line) => line.kg_co2e))).toBe(total)
  expect(sumG(report.by_month.map((month) => month.kg_co2e))).toBe(total)
  for (const month of report.by_month) expect(sumG(Object.values(month.by_scope))).toBe(g(month.kg_co2e))
  expect(sumG(report.scope3_by_category.map((line) => line.kg_co2e))).toBe(g(report.by_scope["3"]))
}

describe("GET /v1/inventory", () => {
  test("splits a quarter by scope, scope 3 category, month, category and gas, and every part adds up to the total", async () => {
    const report = await inventory("?from=2024-01-01&to=2024-03-31")
    expect(report.period).toEqual({ from: "2024-01-01", to: "2024-03-31" })
    expect(report.unit).toBe("kg CO2e")
    expect(report.scope_2_method).toBe("location-based")
    // 251.279 + 3 × 0.0004 + 150 + 50 + 10 + 60.001 + 400 = 921.2812
    expect(report.total).toBe(921.281)
    expect(report.by_scope).toEqual({ "1": 251.28, "2": 400, "3": 270.001, unassigned: 0 })
    expect(report.scope3_by_category).toEqual([
      { category: 3, name: "Fuel- and energy-related activities", kg_co2e: 60.001 },
      { category: 4, name: "Upstream transportation and distribution", kg_co2e: 50 },
      { category: 6, name: "Business travel", kg_co2e: 150 },
      { category: 9, name: "Downstream transportation and distribution", kg_co2e: 10 },
    ])
    expect(report.by_month.map((m) => [m.month, m.kg_co2e])).toEqual([
      ["2024-01", 251.28],
      ["2024-02", 550],
      ["2024-03", 120.001],
    ])
    expect(report.by_month[1]!.by_scope).toEqual({ "1": 0, "2": 400, "3": 150, unassigned: 0 })
    // CO2 240 + 149, CH4 1 + 0.2, N2O 3 + 0.8; the rest (grid, freight, WTT, diesel's remainder) is other.
    expect(report.by_gas).toEqual({ co2: 389, ch4: 1.2, n2o: 3.8, other: 527.281 })
    expect(report.by_category).toEqual([
      { category: "electricity", kg_co2e: 400, activities: 1 },
      { category: "fleet", kg_co2e: 311.28, activities: 2 },
      { category: "travel", kg_co2e: 150, activities: 1 },
      { category: "logistics", kg_co2e: 50, activities: 1 },
      { category: "Downstream transportation", kg_co2e: 10, activities: 1 },
      { category: "generator", kg_co2e: 0.001, activities: 3 },
    ])
    expect(report.coverage).toEqual({ activities: 11, calculated: 9, failed: 1, pending: 1, needs_review: 0, percent_calculated: 81.8 })
    expectPartsAddUp(report)
  })

  test("without a period covers every activity, and filters by upload and by site", async () => {
    const all = await inventory("")
    expect(all.period).toEqual({ from: null, to: null })
    expect(all.total).toBe(926.281)
    expect(all.by_month.map((m) => m.month)).toEqual(["2023-12", "2024-01", "2024-02", "2024-03"])
    expectPartsAddUp(all)

    const store = await inventory(`?upload_id=${otherUpload}`)
    expect(store.total).toBe(405)
    expect(store.coverage.activities).toBe(2)
    expectPartsAddUp(store)

    // Site codes match whatever their case.
    const depot = await inventory("?site=depot-1")
    expect(depot.total).toBe(251.28)
    expect(depot.by_gas).toEqual({ co2: 240, ch4: 1, n2o: 3, other: 7.28 })
    expect(depot.coverage.calculated).toBe(4)
    expectPartsAddUp(depot)
  })

  test("a month stands for its whole month", async () => {
    const february = await inventory("?from=2024-02&to=2024-02")
    expect(february.period).toEqual({ from: "2024-02-01", to: "2024-02-29" })
    expect(february.total).toBe(550)
  })

  test("an empty period is all zeros, not an error", async () => {
    const empty = await inventory("?from=2030-01-01&to=2030-12-31")
    expect(empty.total).toBe(0)
    expect(empty.by_scope).toEqual({ "1": 0, "2": 0, "3": 0, unassigned: 0 })
    expect(empty.by_month).toEqual([])
    expect(empty.coverage).toEqual({ activities: 0, calculated: 0, failed: 0, pending: 0, needs_review: 0, percent_calculated: 0 })
  })

  test("refuses a period that ends before it starts, and dates that do not exist", async () => {
    const inverted = await api.get("/v1/inventory?from=2024-03-01&to=2024-01-01")
    expect(inverted.status).toBe(400)
    expect(((await inverted.json()) as { error: { code: string } }).error.code).toBe("bad_request")
    expect((await api.get("/v1/inventory?from=2024-02-30")).status).toBe(400)
    // The ends of the calendar: year 0 does not exist in PostgreSQL; the last days there are are fine.
    expect((await api.get("/v1/inventory?from=0000-01-01")).status).toBe(400)
    expect((await api.get("/v1/inventory?from=0000-01")).status).toBe(400)
    const all = ((await (await api.get("/v1/inventory")).json()) as { total: number }).total
    expect(all).toBeGreaterThan(0)
    const cases = { "from=9999-12-15&to=9999-12-31": 0, "from=9999-12-20": 0, "from=0001-01&to=0001-02-10": 0, "to=9999-12": all, "from=0001-01-15&to=9999-12-31": all }
    for (const [query, total] of Object.entries(cases)) {
      const response = await api.get(`/v1/inventory?${query}`)
      expect(response.status).toBe(200)
      expect(((await response.json()) as { total: number }).total).toBe(total)
    }
    expect((await api.get("/v1/inventory?upload_id=not-a-uuid")).status).toBe(400)
  })

  test("needs a signed-in caller", async () => {
    expect((await fetch(`${server.url}/v1/inventory`)).status).toBe(401)
  })

  test("an undated activity counts in the whole inventory but in no period, however wide", async () => {
    const before = await inventory("")
    const wide = await inventory("?to=9999-12")
    const [factor] = (await sql`SELECT id FROM emission_factors WHERE name = 'Grid SG'`) as Array<{ id: string }>
    const [row] = (await sql`
      INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, status, matched_factor_id, emissions, emissions_unit, match_source)
      VALUES (${otherUpload}, 999, 'Undated electricity', 10, 'kWh', 'calculated', ${factor!.id}, 4, 'kg CO2e', 'ai')
      RETURNING id`) as Array<{ id: string }>
    try {
      expect((await inventory("")).total).toBe(before.total + 4)
      for (const query of ["?to=9999-12", "?to=9999-12-31", "?from=0001-01-01"]) {
        const report = await inventory(query)
        expect(report.total).toBe(wide.total)
        expect(report.coverage.activities).toBe(wide.coverage.activities)
      }
    } finally {
      await sql`DELETE FROM activities WHERE id = ${row!.id}`
    }
  })
})

describe("GET /v1/templates/activities.csv", () => {
  test("is the header and three example rows, as a CSV download", async () => {
    const response = await api.get("/v1/templates/activities.csv")
    expect(response.status).toBe(200)
    expect(response.headers.get("content-type")).toBe("text/csv; charset=utf-8")
    expect(response.headers.get("content-disposition")).toContain("attachment")
    const lines = (await response.text()).trimEnd().split("\r\n")
    expect(lines[0]).toBe("description,quantity,unit,date,period_start,period_end,geography,category,reference,site")
    expect(lines).toHaveLength(4)
  })
})
