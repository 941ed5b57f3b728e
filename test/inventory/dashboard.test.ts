import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { apiClient, type ApiClient, settledUpload, uploadFile } from "../support/api.ts"
import { axeViolations, signInPage } from "../support/browser.ts"
import { testSql } from "../support/factories.ts"
import { type RunningProduct, SAMPLE, startProduct } from "../support/product.ts"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"

/**
 * The sample file through the whole product (real catalogue, reference matcher, worker): the
 * activities' per-gas emissions, the inventory over them, and the dashboard showing the API's numbers.
 */
let product: RunningProduct
let api: ApiClient
let uploadId: string

interface Inventory {
  period: { from: string | null; to: string | null }
  total: number
  by_scope: Record<string, number>
  by_gas: Record<"co2" | "ch4" | "n2o" | "other", number>
  by_month: Array<{ month: string; kg_co2e: number; by_scope: Record<string, number> }>
  by_category: Array<{ category: string; kg_co2e: number }>
  scope3_by_category: Array<{ category: number | null; kg_co2e: number }>
  coverage: { activities: number; calculated: number }
}

const g = (kg: number) => Math.round(kg * 1000)

beforeAll(async () => {
  product = await startProduct()
  api = await apiClient(product.server.url, "accountant@demo.scopeline.dev")
  uploadId = await uploadFile(api, readFileSync(SAMPLE, "utf8"), "supermarket.csv")
  await settledUpload(api, uploadId)
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const view = (await (await api.get(`/v1/uploads/${uploadId}`)).json()) as { activities: Record<string, number> }
    if ((view.activities.ingested ?? 0) + (view.activities.matching ?? 0) === 0) break
    await Bun.sleep(100)
  }
}, 90_000)
afterAll(async () => {
  await product?.stop()
})

describe("the sample file's inventory", () => {
  test("each activity's emissions are split by gas as its factor publishes, the rest as other", async () => {
    const sql = testSql(product.server.databaseUrl)
    try {
      const rows = (await sql`
        SELECT a.raw_description AS description, a.emissions::text AS emissions, a.emissions_co2::text AS co2,
               a.emissions_ch4::text AS ch4, a.emissions_n2o::text AS n2o, a.emissions_other::text AS other,
               f.co2_factor::text AS co2_factor, f.factor_value::text AS factor_value, f.source
        FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id
        WHERE a.upload_id = ${uploadId} AND a.status = 'calculated'`) as Array<Record<string, string | null>>
      expect(rows.length).toBe(16)
      for (const row of rows) {
        expect(row.co2 === null).toBe(row.co2_factor === null)
        // The same ratio of CO2 to total as the factor's (the parts are priced like the total).
        if (row.co2 !== null) expect(Number(row.co2) / Number(row.emissions)).toBeCloseTo(Number(row.co2_factor) / Number(row.factor_value), 9)
        if (row.source === "Ember") expect(row.other).toBe(row.emissions)
      }
      const diesel = rows.filter((row) => row.description === "Diesel for delivery vans")
      expect(diesel.length).toBe(3)
      expect(diesel.every((row) => Number(row.co2) > 0 && Number(row.ch4) > 0 && Number(row.n2o) > 0)).toBe(true)
    } finally {
      await sql.close()
    }
  })

  test("the inventory equals the activities' own emissions, and its parts add up", async () => {
    const report = (await (await api.get(`/v1/inventory?upload_id=${uploadId}`)).json()) as Inventory
    const activities = (await (await api.get(`/v1/activities?upload_id=${uploadId}&limit=100`)).json()) as {
      activities: Array<{ emissions: { amount: { quantity: number } } | null }>
    }
    const sum = activities.activities.reduce((total, a) => total + (a.emissions?.amount.quantity ?? 0), 0)
    expect(Math.abs(report.total - sum)).toBeLessThan(0.001)
    expect(report.coverage).toMatchObject({ activities: 16, calculated: 16 })
    expect(report.by_scope["2"]).toBeGreaterThan(0)
    expect(report.by_gas.co2).toBeGreaterThan(0)
    const grams = (values: ReadonlyArray<number>) => values.reduce((total, kg) => total + g(kg), 0)
    expect(grams(Object.values(report.by_scope))).toBe(g(report.total))
    expect(grams(Object.values(report.by_gas))).toBe(g(report.total))
    expect(grams(report.by_month.map((m) => m.kg_co2e))).toBe(g(report.total))
    expect(grams(report.scope3_by_category.map((c) => c.kg_co2e))).toBe(g(report.by_scope["3"]!))
    expect(report.scope3_by_category.map((c) => c.category)).toContain(6)
  })

  test("the dashboard, linked from the home page, shows the API's numbers for the latest twelve months", async () => {
    const page = await signInPage(product.browser, product.server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.click("#dashboard-link")
    await page.waitForSelector("#inventory-total")
    expect(new URL(page.url()).pathname).toBe("/dashboard")
    // The sample is 2024's first quarter: the default period is the twelve months up to March 2024.
    expect(await page.inputValue("input[name=from]")).toBe("2023-04")
    expect(await page.inputValue("input[name=to]")).toBe("2024-03")
    const report = (await (await api.get("/v1/inventory?from=2023-04-01&to=2024-03-31")).json()) as Inventory
    expect(Number(await page.getAttribute("#inventory-total", "data-kg"))).toBe(report.total)
    const scopeCells = await page.locator("#by-scope table").first().locator("td[data-kg]").evaluateAll((cells) => cells.map((c) => Number(c.getAttribute("data-kg"))))
    expect(scopeCells).toEqual([report.by_scope["1"]!, report.by_scope["2"]!, report.by_scope["3"]!])
    const gasCells = await page.locator("#by-gas td[data-kg]").evaluateAll((cells) => cells.map((c) => Number(c.getAttribute("data-kg"))))
    expect(gasCells).toEqual([report.by_gas.co2, report.by_gas.ch4, report.by_gas.n2o, report.by_gas.other])
    const months = await page.locator("#by-month tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-month")))
    expect(months).toEqual(["2024-01", "2024-02", "2024-03"])
    expect(await page.textContent("#coverage-calculated")).toBe("16")
    expect(await axeViolations(page)).toEqual([])
    // Every chart is an image with a text alternative, next to its table.
    for (const id of ["chart-scope", "chart-month", "chart-category", "chart-gas"]) {
      expect(await page.getAttribute(`#${id}`, "role")).toBe("img")
      expect((await page.textContent(`#${id} desc`))?.length).toBeGreaterThan(0)
    }

    // A period without data says what to do instead of drawing empty charts.
    await page.fill("input[name=from]", "2030-01")
    await page.fill("input[name=to]", "2030-12")
    await page.click("#period-picker button[type=submit]")
    await page.waitForSelector("#dashboard-empty")
    expect(await page.textContent("#dashboard-empty")).toContain("Pick another period")

    // A period that ends before it starts is said next to the picker, which keeps it to correct;
    // the figures below are the default period's, so the page stays usable.
    await page.fill("input[name=from]", "2024-03")
    await page.fill("input[name=to]", "2024-02")
    await page.click("#period-picker button[type=submit]")
    await page.waitForSelector("#period-error")
    expect(await page.textContent("#period-error")).toContain("to is before from")
    expect(await page.inputValue("input[name=from]")).toBe("2024-03")
    expect(await page.inputValue("input[name=to]")).toBe("2024-02")
    expect(Number(await page.getAttribute("#inventory-total", "data-kg"))).toBe(report.total)
    await page.close()
  }, 30_000)
})

describe("exports from the pages", () => {
  test("the activities page's Export button writes its filtered activities, shown with progress on the exports page", async () => {
    const page = await signInPage(product.browser, product.server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${product.server.url}/activities?upload_id=${uploadId}`)
    await page.selectOption("#export-activities select[name=format]", "csv")
    await page.click("#export-activities button[type=submit]")
    await page.waitForSelector("#exports-list tr[data-status=ready] a.download")
    expect(new URL(page.url()).pathname).toBe("/exports")
    const href = await page.getAttribute("#exports-list tr[data-status=ready] a.download", "href")
    const response = await page.request.get(`${product.server.url}${href}`)
    expect(response.status()).toBe(200)
    const lines = (await response.text()).trimEnd().split("\r\n")
    // The header and one line per activity of the upload (none of the sample's fields has a line break).
    expect(lines).toHaveLength(17)
    // The export's row names the upload it was filtered to by its file and time, not by its id.
    const row = (await page.textContent("#exports-list tr[data-status=ready]"))!
    expect(row).toContain("upload supermarket.csv · ")
    expect(row).not.toContain(uploadId)

    // The dashboard's Export button exports the inventory of the period it shows.
    await page.goto(`${product.server.url}/dashboard`)
    await page.selectOption("#export-inventory select[name=format]", "xlsx")
    await page.click("#export-inventory button[type=submit]")
    await page.waitForSelector("#exports-list tr[data-status=ready]:first-child a.download")
    expect(await page.textContent("#exports-list tbody tr:first-child")).toContain("inventory · XLSX · from 2023-04-01, to 2024-03-31")
    expect(await axeViolations(page)).toEqual([])
    await page.close()
  }, 30_000)
})

describe("the CSV template", () => {
  test("is linked from the upload form and imports as it is", async () => {
    const page = await signInPage(product.browser, product.server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${product.server.url}/uploads`)
    expect(await page.getAttribute("#activity-template", "href")).toBe("/v1/templates/activities.csv")
    await page.close()
    const template = await (await api.get("/v1/templates/activities.csv")).text()
    const upload = await settledUpload(api, await uploadFile(api, template, "template.csv"))
    expect({ status: upload.status, errors: upload.row_errors, reason: upload.failure_reason }).toEqual({ status: "parsed", errors: [], reason: null })
    expect(upload.row_count).toBe(3)
  }, 30_000)
})

describe("an empty inventory", () => {
  test("the dashboard of a tenant without activities points to the upload page and the template", async () => {
    const page = await signInPage(product.browser, product.server.url, "viewer@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${product.server.url}/dashboard?upload_id=${crypto.randomUUID()}`)
    await page.waitForSelector("#dashboard-empty")
    expect(await page.locator("#dashboard-empty a[href='/uploads']").count()).toBe(1)
    expect(await page.locator("#dashboard-empty a[href='/v1/templates/activities.csv']").count()).toBe(1)
    await page.close()
  }, 30_000)
})
