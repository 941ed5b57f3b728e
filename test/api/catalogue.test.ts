import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { insertFactor, testSql, dieselFactor } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

interface FactorJson {
  id: string
  url: string
  ref: string
  name: string
  category_path: Array<string>
  scope: string | null
  unit: string
  factor: { value: string; unit: string; ghg_unit: string }
  geography: string
  provenance: {
    source: string
    publication: string | null
    year: number
    geography: string
    licence: string | null
    attribution: string | null
    source_id: string
    source_file: string | null
    ref: string
  }
}

interface SearchJson {
  offset: number
  limit: number
  total: number
  emission_factors: Array<FactorJson>
}

let server: TestServer
let sql: SQL
let viewer: ApiClient
let diesel: string

const search = async (query: string) => {
  const response = await viewer.get(`/v1/emission-factors${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as SearchJson
}

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  diesel = await insertFactor(sql, dieselFactor)
  await insertFactor(sql, {
    name: "Petrol (average biofuel blend)",
    unit: "litres",
    factorValue: "2.19352",
    sourceId: "1_100_1000_16_1",
    scope: "Scope 1",
    categoryPath: ["Fuels", "Liquid fuels", "Petrol (average biofuel blend)"],
    dimension: "volume",
  })
  await insertFactor(sql, {
    name: "Electricity: UK",
    unit: "kWh",
    factorValue: "0.207074",
    sourceId: "2_200_2000_1_1",
    scope: "Scope 2",
    categoryPath: ["UK electricity", "Electricity generated"],
    dimension: "energy",
  })
  await insertFactor(sql, {
    name: "Electricity grid intensity: France",
    unit: "kWh",
    factorValue: "0.0560",
    source: "Ember",
    sourceId: "FR-2023",
    geography: "FR",
    scope: "Scope 2",
    categoryPath: ["Electricity", "Grid intensity"],
    licence: "CC BY 4.0",
    attribution: "Ember (2024) – Yearly electricity data, licensed under CC BY 4.0.",
    publication: "Ember Yearly Electricity Data",
    sourceFile: "yearly_full_release_long_format.csv",
    dimension: "energy",
  })
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
})
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

describe("GET /v1/emission-factors", () => {
  test("finds factors by free text", async () => {
    const body = await search("?q=diesel")
    expect(body.total).toBe(1)
    expect(body.emission_factors.map((f) => f.name)).toEqual(["Diesel (average biofuel blend)"])
    expect(body.emission_factors[0]!.url).toBe(`/v1/emission-factors/${diesel}`)
  })

  test("searches the category path too: 'liquid fuels' finds diesel and petrol", async () => {
    const body = await search(`?q=${encodeURIComponent("liquid fuels")}`)
    expect(body.emission_factors.map((f) => f.name).sort()).toEqual([
      "Diesel (average biofuel blend)",
      "Petrol (average biofuel blend)",
    ])
  })

  test("filters by unit, scope and geography, ignoring letter case", async () => {
    expect((await search("?unit=KWH")).emission_factors.map((f) => f.name).sort()).toEqual([
      "Electricity grid intensity: France",
      "Electricity: UK",
    ])
    expect((await search("?unit=kwh&geography=fr")).emission_factors.map((f) => f.name)).toEqual([
      "Electricity grid intensity: France",
    ])
    expect((await search("?scope=scope%201")).total).toBe(2)
    // As people type them: a scope's number, a unit's other spelling.
    expect((await search("?scope=1")).total).toBe(2)
    expect((await search("?scope=Scope1")).total).toBe(2)
    expect((await search("?q=diesel&unit=L")).emission_factors.map((f) => f.name)).toEqual(["Diesel (average biofuel blend)"])
    expect((await search("?q=diesel&unit=litre")).emission_factors.map((f) => f.name)).toEqual(["Diesel (average biofuel blend)"])
    expect((await search("?q=electricity&geography=GB")).emission_factors.map((f) => f.name)).toEqual(["Electricity: UK"])
  })

  test("pages with offset and limit, reporting the total", async () => {
    const first = await search("?limit=3")
    const second = await search("?limit=3&offset=3")
    expect(first.total).toBe(4)
    expect(first.emission_factors).toHaveLength(3)
    expect(second.emission_factors).toHaveLength(1)
    const names = [...first.emission_factors, ...second.emission_factors].map((f) => f.name)
    expect(new Set(names).size).toBe(4)
  })

  test("rejects a page size above 500 and other bad parameters with 400", async () => {
    for (const query of ["limit=501", "limit=0", "offset=x"]) {
      const response = await viewer.get(`/v1/emission-factors?${query}`)
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { details: Array<unknown> } }).error.details.length).toBeGreaterThan(0)
    }
  })

  test("requires a signed-in user", async () => {
    expect((await fetch(`${server.url}/v1/emission-factors`)).status).toBe(401)
  })
})

describe("GET /v1/emission-factors/:id", () => {
  test("returns the factor with its full provenance", async () => {
    const [france] = (await search("?geography=FR")).emission_factors
    const response = await viewer.get(france!.url)
    expect(response.status).toBe(200)
    const body = (await response.json()) as FactorJson
    expect(body).toMatchObject({
      id: france!.id,
      ref: "Ember:2023:FR-2023",
      name: "Electricity grid intensity: France",
      category_path: ["Electricity", "Grid intensity"],
      scope: "Scope 2",
      unit: "kWh",
      // The published digits, trailing zero included.
      factor: { value: "0.0560", unit: "kg CO2e", ghg_unit: "kg CO2e" },
      provenance: {
        source: "Ember",
        publication: "Ember Yearly Electricity Data",
        year: 2023,
        geography: "FR",
        licence: "CC BY 4.0",
        attribution: "Ember (2024) – Yearly electricity data, licensed under CC BY 4.0.",
        source_id: "FR-2023",
        source_file: "yearly_full_release_long_format.csv",
        ref: "Ember:2023:FR-2023",
      },
    })
  })

  test("is a 404 for an unknown id and for something that is not an id", async () => {
    for (const id of [crypto.randomUUID(), "diesel"]) {
      const response = await viewer.get(`/v1/emission-factors/${id}`)
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found")
    }
  })
})
