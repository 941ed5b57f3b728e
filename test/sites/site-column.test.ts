import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { parsingHarness } from "../support/parsing.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

const HEADER = "description,quantity,unit,date,site"

describe("the site column of an activity file", () => {
  let harness: Awaited<ReturnType<typeof parsingHarness>>
  let ldn: string
  beforeAll(async () => {
    harness = await parsingHarness()
    ;[{ id: ldn }] = await harness.db`INSERT INTO sites (code, name, country, limit_period) VALUES ('LDN-1', 'London', 'GB', 'month') RETURNING id`
    await harness.db`INSERT INTO sites (code, name, country, limit_period) VALUES ('MAN-2', 'Manchester', 'GB', 'year')`
  }, 60_000)
  afterAll(async () => {
    await harness?.close()
  })

  test("links each row to the site its code names, whatever the case; an empty cell links none", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,10,L,2024-01-01,ldn-1\nGas,5,kWh,2024-01-02,\n`)
    expect(upload.status).toBe("parsed")
    expect(stored).toBe(2)
    const rows = await harness.db`SELECT site_id, extra FROM activities WHERE upload_id = ${upload.id} ORDER BY row_number`
    expect(rows.map((r: { site_id: string | null }) => r.site_id)).toEqual([ldn, null])
    // It is a column Scopeline reads now, not one kept with the file's own extra columns.
    expect(rows[0].extra).toBeNull()
  })

  test("an unknown code rejects the file with a row error that lists the known codes", async () => {
    const { upload, stored } = await harness.parse(`${HEADER}\nDiesel,10,L,2024-01-01,LDN-1\nDiesel,10,L,2024-01-01,BRS-9\n`)
    expect(upload.status).toBe("failed")
    expect(stored).toBe(0)
    expect(upload.rowErrors).toHaveLength(1)
    const [error] = upload.rowErrors ?? []
    expect(error!.row).toBe(3)
    expect(error!.column).toBe("site")
    expect(error!.value).toBe("BRS-9")
    expect(error!.message).toBe("site is not a known site code. Known codes: LDN-1, MAN-2")
  })
})

describe("a site's totals from activities", () => {
  let server: TestServer
  let sql: SQL
  let api: ApiClient
  beforeAll(async () => {
    server = await startServer()
    await seedDemo(server.databaseUrl)
    sql = testSql(server.databaseUrl)
    api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  }, 60_000)
  afterAll(async () => {
    await sql?.close()
    await server?.stop()
  })

  test("count the calculated activities dated in the current period, and the activities API names the site", async () => {
    const created = await api.post("/v1/sites", { code: "DEPOT", name: "Depot", country: "GB", emission_limit_kg_co2e: 100, limit_period: "year" })
    const { site } = (await created.json()) as { site: { id: string; current_period: { from: string } } }
    const factor = await insertFactor(sql, { name: "Diesel", unit: "litres", factorValue: "2.5", scope: "Scope 1", categoryPath: ["Fuels"] })
    const upload = await insertUpload(sql, "accountant@demo.scopeline.dev")
    const thisYear = site.current_period.from.slice(0, 4)
    const ids = await insertActivities(sql, upload, [
      { description: "Diesel", quantity: "10", unit: "litres", date: `${thisYear}-01-15`, status: "calculated", factorId: factor, emissions: "25.5" },
      { description: "Diesel", quantity: "4", unit: "litres", date: `${thisYear}-01-16`, status: "calculated", factorId: factor, emissions: "10" },
      { description: "Diesel last year", quantity: "4", unit: "litres", date: `${Number(thisYear) - 1}-12-31`, status: "calculated", factorId: factor, emissions: "99" },
      { description: "Pending", quantity: "4", unit: "litres", date: `${thisYear}-01-16`, status: "matching" },
    ])
    await sql`UPDATE activities SET site_id = ${site.id} WHERE id = ANY(${ids}::uuid[])`
    const view = (await (await api.get(`/v1/sites/${site.id}`)).json()) as { site: { current_period: { activities_kg_co2e: number; activities: number; total_kg_co2e: number } } }
    expect(view.site.current_period).toMatchObject({ activities_kg_co2e: 35.5, activities: 2, total_kg_co2e: 35.5 })
    const activity = (await (await api.get(`/v1/activities/${ids[0]}`)).json()) as { site: { id: string; code: string } | null }
    expect(activity.site).toEqual({ id: site.id, code: "DEPOT", url: `/v1/sites/${site.id}` } as never)
  })
})
