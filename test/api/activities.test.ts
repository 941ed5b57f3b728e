import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { type ActivityInput, insertActivities, insertFactor, insertUpload, testSql, dieselFactor } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

interface ActivityJson {
  id: string
  url: string
  emissions: { pollutant: { id: string; name: string }; amount: { unit: string; quantity: number } } | null
  emission_factor: {
    id: string
    name: string
    url: string
    provenance: { source: string; year: number; geography: string; licence: string | null; source_id: string; ref: string }
  } | null
  description: string
  quantity: number
  unit: string
  date: string
  match_source: string | null
  confidence: number | null
  failure_reason: string | null
  metadata: { status: string; ingested_on: string; updated_at: string; submitted_by: { id: string; email: string } }
}

interface ListJson {
  offset: number | null
  limit: number
  next_cursor: string | null
  status_counts?: Record<string, number>
  activities: ReadonlyArray<ActivityJson>
}

let server: TestServer
let sql: SQL
let viewer: ApiClient
let accountant: ApiClient
let older: string
let newer: string
let diesel: string
let electricity: string
const emitted: Array<number> = []

const list = async (api: ApiClient, query: string) => {
  const response = await api.get(`/v1/activities${query}`)
  expect(response.status).toBe(200)
  return (await response.json()) as ListJson
}

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  diesel = await insertFactor(sql, dieselFactor)
  electricity = await insertFactor(sql, {
    name: "Electricity: UK",
    unit: "kWh",
    factorValue: "0.207074",
    sourceId: "2_200_2000_1_1",
    scope: "Scope 2",
    categoryPath: ["UK electricity", "Electricity generated"],
  })
  // 30 rows in the older upload (one created_at, as the parser writes them) and 5 in the newer one.
  older = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "q1.csv", createdAt: "2026-01-05T10:00:00Z" })
  newer = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "q2.csv", createdAt: "2026-04-05T10:00:00Z" })
  const olderRows: Array<ActivityInput> = Array.from({ length: 30 }, (_, i) => {
    const month = String((i % 3) + 1).padStart(2, "0")
    if (i % 5 === 4) {
      return { description: `Unknown thing ${i}`, quantity: "1", unit: "kg", date: `2026-${month}-10`, status: "failed", failureReason: "No factor matched with enough confidence." }
    }
    if (i % 5 === 3) return { description: `Pending ${i}`, quantity: "2", unit: "kWh", date: `2026-${month}-11` }
    const litres = 10 + i
    const kg = (litres * 2.51279).toFixed(5)
    emitted.push(Number(kg))
    return {
      description: `Diesel for van ${i}`,
      quantity: String(litres),
      unit: "litres",
      date: `2026-${month}-0${(i % 9) + 1}`,
      status: "calculated",
      factorId: diesel,
      confidence: "0.93",
      emissions: kg,
      matchSource: i % 2 === 0 ? "ai" : "cache",
      category: i % 2 === 0 ? "Fleet" : null,
    }
  })
  await insertActivities(sql, older, olderRows, "2026-01-05T10:00:01.123456Z")
  const newerRows: Array<ActivityInput> = [
    { description: "Office electricity April", quantity: "1200.5", unit: "kWh", date: "2026-04-30", status: "calculated", factorId: electricity, confidence: "0.88", emissions: "248.597", matchSource: "ai", extra: { cost_centre: "CC-12" } },
    { description: "Office electricity May", quantity: "1100", unit: "kWh", date: "2026-05-31", status: "calculated", factorId: electricity, confidence: "0.88", emissions: "227.781", matchSource: "cache" },
    { description: "Mystery", quantity: "3", unit: "kg", date: "2026-05-01", status: "failed", failureReason: "Unit kg does not fit any candidate factor." },
    { description: "Matching now", quantity: "4", unit: "kWh", date: "2026-05-02", status: "matching" },
    { description: "Not yet", quantity: "5", unit: "kWh", date: "2026-05-03" },
  ]
  emitted.push(248.597, 227.781)
  await insertActivities(sql, newer, newerRows, "2026-04-05T10:00:01.654321Z")
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
})
afterAll(async () => {
  await sql?.close()
  await server?.stop()
})

describe("GET /v1/activities", () => {
  test("answers in the seed's shape, with the factor's provenance and how it was matched", async () => {
    const body = await list(viewer, `?upload_id=${newer}`)
    expect(body.offset).toBe(0)
    expect(body.limit).toBe(25)
    expect(body.next_cursor).toBeNull()
    expect(body.activities.map((a) => a.description)).toEqual([
      "Office electricity April",
      "Office electricity May",
      "Mystery",
      "Matching now",
      "Not yet",
    ])
    const [first] = body.activities
    expect(first).toMatchObject({
      url: `/v1/activities/${first!.id}`,
      emissions: { pollutant: { id: "co2e", name: "CO2e" }, amount: { unit: "kg CO2e", quantity: 248.597 } },
      emission_factor: {
        id: electricity,
        name: "Electricity: UK",
        url: `/v1/emission-factors/${electricity}`,
        provenance: { source: "DESNZ", year: 2023, geography: "GB", licence: "OGL v3.0", source_id: "2_200_2000_1_1", ref: "DESNZ:2023:2_200_2000_1_1" },
      },
      description: "Office electricity April",
      quantity: 1200.5,
      unit: "kWh",
      date: "2026-04-30",
      extra: { cost_centre: "CC-12" },
      match_source: "ai",
      confidence: 0.88,
      failure_reason: null,
      metadata: { status: "calculated", submitted_by: { email: "accountant@demo.scopeline.dev" } },
    })
    expect(first!.metadata.submitted_by.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(new Date(first!.metadata.ingested_on).toISOString()).toBe("2026-04-05T10:00:01.654Z")
    const failed = body.activities[2]!
    expect(failed.emissions).toBeNull()
    expect(failed.emission_factor).toBeNull()
    expect(failed.failure_reason).toBe("Unit kg does not fit any candidate factor.")
    expect(body.status_counts).toEqual({ ingested: 1, matching: 1, calculated: 2, failed: 1, total: 5 })
  })

  test("lists the newest upload first, then rows in file order", async () => {
    const body = await list(accountant, "?limit=1000")
    expect(body.activities).toHaveLength(35)
    expect(body.activities[0]!.description).toBe("Office electricity April")
    expect(body.activities[5]!.description).toBe("Diesel for van 0")
    expect(body.activities[34]!.description).toBe("Unknown thing 29")
  })

  test("offset pages and cursor pages give the same rows", async () => {
    const all = (await list(accountant, "?limit=1000")).activities.map((a) => a.id)
    const byOffset: Array<string> = []
    for (let offset = 0; offset < 35; offset += 8) {
      byOffset.push(...(await list(accountant, `?limit=8&offset=${offset}`)).activities.map((a) => a.id))
    }
    const byCursor: Array<string> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page: ListJson = await list(accountant, `?limit=8${cursor ? `&cursor=${cursor}` : ""}`)
      byCursor.push(...page.activities.map((a) => a.id))
      cursor = page.next_cursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(5)
    expect(byOffset).toEqual(all)
    expect(byCursor).toEqual(all)
  })

  test("a cursor keeps its filters' meaning: failed rows, three at a time", async () => {
    const first = await list(accountant, "?status=failed&limit=3")
    expect(first.activities.map((a) => a.metadata.status)).toEqual(["failed", "failed", "failed"])
    const second = await list(accountant, `?status=failed&limit=3&cursor=${first.next_cursor}`)
    const third = await list(accountant, `?status=failed&limit=3&cursor=${second.next_cursor}`)
    expect(third.next_cursor).toBeNull()
    expect(first.activities.length + second.activities.length + third.activities.length).toBe(7)
  })

  test("caps the page size at 1000 and rejects bad paging with 400 and details", async () => {
    expect((await viewer.get("/v1/activities?limit=1000")).status).toBe(200)
    const tooMany = await viewer.get("/v1/activities?limit=1001")
    expect(tooMany.status).toBe(400)
    const body = (await tooMany.json()) as { error: { code: string; details: Array<{ path: string; message: string }> } }
    expect(body.error.code).toBe("bad_request")
    expect(body.error.details.map((d) => d.path)).toContain("limit")
    for (const query of ["limit=0", "limit=abc", "limit=2.5", "offset=-1", "cursor=not-a-cursor", "status=done", "upload_id=42"]) {
      expect(`${query}: ${(await viewer.get(`/v1/activities?${query}`)).status}`).toBe(`${query}: 400`)
    }
    const page = await list(viewer, "?limit=2")
    expect((await viewer.get(`/v1/activities?offset=2&cursor=${page.next_cursor}`)).status).toBe(400)
  })

  test("filters by upload and by status", async () => {
    const olderOnly = await list(viewer, `?upload_id=${older}&limit=100`)
    expect(olderOnly.activities).toHaveLength(30)
    expect(olderOnly.status_counts).toEqual({ ingested: 6, matching: 0, calculated: 18, failed: 6, total: 30 })
    const calculated = await list(viewer, `?upload_id=${older}&status=calculated&limit=100`)
    expect(calculated.activities).toHaveLength(18)
    expect(calculated.activities.every((a) => a.emissions !== null && a.emission_factor?.id === diesel)).toBe(true)
    const none = await list(viewer, `?upload_id=${crypto.randomUUID()}`)
    expect(none.activities).toEqual([])
  })

  test("requires a signed-in user", async () => {
    expect((await fetch(`${server.url}/v1/activities`)).status).toBe(401)
  })
})

describe("GET /v1/activities/:id", () => {
  test("returns one activity in the list's shape", async () => {
    const [listed] = (await list(viewer, `?upload_id=${newer}&limit=1`)).activities
    const response = await viewer.get(listed!.url)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual(listed!)
  })

  test("is a 404 for an unknown id and for something that is not an id", async () => {
    for (const id of [crypto.randomUUID(), "nope", "1"]) {
      const response = await viewer.get(`/v1/activities/${id}`)
      expect(response.status).toBe(404)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found")
    }
  })
})

describe("GET /v1/emissions/totals", () => {
  const sum = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0)

  test("totals add up: by scope, by category and by month all sum to the calculated activities", async () => {
    const response = await viewer.get("/v1/emissions/totals")
    expect(response.status).toBe(200)
    const body = (await response.json()) as {
      unit: string
      total: { quantity: number; activities: number }
      by_scope: Array<{ scope: string; quantity: number; activities: number }>
      by_category: Array<{ category: string; quantity: number; activities: number }>
      by_month: Array<{ month: string; quantity: number; activities: number }>
    }
    expect(body.unit).toBe("kg CO2e")
    expect(body.total.activities).toBe(20)
    expect(body.total.quantity).toBeCloseTo(sum(emitted), 6)
    for (const lines of [body.by_scope, body.by_category, body.by_month]) {
      expect(sum(lines.map((l) => l.quantity))).toBeCloseTo(body.total.quantity, 6)
      expect(sum(lines.map((l) => l.activities))).toBe(20)
    }
    expect(body.by_scope.map((l) => l.scope)).toEqual(["Scope 1", "Scope 2"])
    expect(body.by_scope[1]!.quantity).toBeCloseTo(248.597 + 227.781, 6)
    // A row without its own category falls back to the top of its factor's category path.
    expect(body.by_category.map((l) => l.category).sort()).toEqual(["Fleet", "Fuels", "UK electricity"])
    expect(body.by_month.map((l) => l.month)).toEqual(["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"])
  })

  test("narrows to one upload, and rejects an upload id that is not one", async () => {
    const response = await viewer.get(`/v1/emissions/totals?upload_id=${newer}`)
    const body = (await response.json()) as { upload_id: string; total: { quantity: number; activities: number } }
    expect(body.upload_id).toBe(newer)
    expect(body.total).toEqual({ quantity: 476.378, activities: 2 })
    expect((await viewer.get("/v1/emissions/totals?upload_id=x")).status).toBe(400)
  })
})
