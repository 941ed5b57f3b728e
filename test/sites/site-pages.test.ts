import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import type { Browser, Page } from "playwright-core"
import { apiClient, type ApiClient } from "../support/api.ts"
import { axeViolations, keyboardProblems, launchBrowser, signInPage } from "../support/browser.ts"
import { insertActivities, insertFactor, insertUpload, testSql } from "../support/factories.ts"
import { noisyNumbers, visibleText } from "../support/pages.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let browser: Browser
let sql: SQL
let api: ApiClient
let warned: string
let quiet: string

beforeAll(async () => {
  server = await startServer({ LOAD_CATALOGUE: "true" })
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  browser = await launchBrowser()
  const create = async (code: string, limit: number | null) =>
    ((await (await api.post("/v1/sites", { code, name: `Site ${code}`, country: "GB", emission_limit_kg_co2e: limit, limit_period: "month" })).json()) as { site: { id: string } }).site.id
  warned = await create("LDN-1", 1000)
  quiet = await create("MAN-2", null)
  // Awkward amounts on purpose: a double would print them with residue (0.1 + 0.2).
  // Every reading falls in the current (UTC) month, whatever the day: the limit is per month, and the
  // site must stand between 80% and 100% of it (650.3 + 6.6 kg CO2, 7.8 kg CH4 at a GWP of 25–30, 7.5 kg
  // from the activity: 860–898 kg CO2e of 1,000).
  const now = Date.now()
  const today = new Date(now)
  const sinceMonthStart = now - Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)
  const readings = Array.from({ length: 12 }, (_, i) => ({ timestamp: new Date(now - Math.floor((sinceMonthStart * i) / 13)).toISOString(), gas: i % 2 ? "CH4" : "CO2", quantity: 0.1 + 0.2 * i, unit: "kg", device_id: "cem-1" }))
  const latest = { timestamp: new Date(now - Math.min(60_000, Math.floor(sinceMonthStart / 26))).toISOString(), gas: "CO2", quantity: 650.3, unit: "kg" }
  expect((await api.post(`/v1/sites/${warned}/measurements`, { measurements: [...readings, latest] })).status).toBe(200)
  const factor = await insertFactor(sql, { name: "Diesel", unit: "litres", factorValue: "2.5", scope: "Scope 1", categoryPath: ["Fuels"] })
  const upload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "generator-fuel.csv" })
  const ids = await insertActivities(sql, upload, [
    { description: "Diesel for the generator", quantity: "3", unit: "litres", date: new Date().toISOString().slice(0, 10), status: "calculated", factorId: factor, emissions: "7.5" },
  ])
  await sql`UPDATE activities SET site_id = ${warned} WHERE id = ANY(${ids}::uuid[])`
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await sql?.close()
  await server?.stop()
})

describe("the sites pages", () => {
  test("/sites shows each site's total against its limit as a bar and the same numbers in a table, reached from the navigation", async () => {
    const page = await signInPage(browser, server.url, "viewer@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${server.url}/`)
    await page.click("nav a[href='/sites']")
    await page.waitForSelector("#sites-table")
    expect(await page.locator(`#bar-${warned}`).getAttribute("role")).toBe("img")
    const row = page.locator("tr[data-site='LDN-1']")
    expect(await row.locator("td.percent").textContent()).toMatch(/^\d+\.\d%$/)
    expect(await row.locator("td.site-status").textContent()).toBe("Above 80% of limit")
    expect(await page.locator("tr[data-site='MAN-2'] td.site-status").textContent()).toBe("No limit")
    expect([...(await axeViolations(page)), ...(await keyboardProblems(page))]).toEqual([])
    expect(noisyNumbers(visibleText(await page.content()))).toEqual([])
    await page.close()
  }, 60_000)

  test("a site page shows the daily chart, its alerts and its activities, accessibly and without number noise", async () => {
    const page = await signInPage(browser, server.url, "admin@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    for (const id of [warned, quiet]) {
      const response = await page.goto(`${server.url}/sites/${id}`)
      expect(response?.status()).toBe(200)
      expect(await page.locator("#daily-chart").getAttribute("role")).toBe("img")
      expect([...(await axeViolations(page)), ...(await keyboardProblems(page))]).toEqual([])
      expect(noisyNumbers(visibleText(await page.content()))).toEqual([])
    }
    await page.goto(`${server.url}/sites/${warned}`)
    expect(await page.locator("#alerts-table tr[data-alert]").count()).toBe(1)
    expect(await page.locator("#site-activities-table tbody tr").count()).toBe(1)
    // The activity links to its own page, and its upload is named by its file and time.
    const activity = page.locator("#site-activities-table tbody tr td a").first()
    expect(await activity.textContent()).toBe("Diesel for the generator")
    expect(await activity.getAttribute("href")).toMatch(/^\/activities\/[0-9a-f-]{36}$/)
    expect(await page.locator("#site-activities-table tbody tr td a").last().textContent()).toMatch(/^generator-fuel\.csv · \d{4}-\d{2}-\d{2} /)
    expect(await page.locator("#daily-table tbody tr").count()).toBeGreaterThan(0)
    expect((await page.goto(`${server.url}/sites/${crypto.randomUUID()}`))?.status()).toBe(404)
    await page.close()
  }, 60_000)

  test("an accountant adds a site from /sites and changes its limit on its page; a refused form keeps what was typed; viewers get no forms", async () => {
    const page = await signInPage(browser, server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${server.url}/sites`)
    await page.fill("#site-create-form input[name=code]", "LDN-1")
    await page.fill("#site-create-form input[name=name]", "A second London")
    await page.fill("#site-create-form input[name=country]", "GB")
    await page.click("#site-create-form button[type=submit]")
    await page.waitForSelector("#site-create-form-error")
    expect(await page.textContent("#site-create-form-error")).toContain("LDN-1")
    expect(await page.inputValue("#site-create-form input[name=name]")).toBe("A second London")

    await page.fill("#site-create-form input[name=code]", "BRS-3")
    await page.fill("#site-create-form input[name=emission_limit_kg_co2e]", "12,500")
    await page.selectOption("#site-create-form-period", "year")
    await page.click("#site-create-form button[type=submit]")
    await page.waitForSelector("#site-total")
    expect(await page.textContent("h1")).toBe("A second London (BRS-3)")
    const created = (await (await api.get("/v1/sites?limit=500")).json()) as { total: number; sites: Array<{ id: string; code: string; emission_limit_kg_co2e: number | string | null; limit_period: string }> }
    const site = created.sites.find((s) => s.code === "BRS-3")!
    expect(Number(site.emission_limit_kg_co2e)).toBe(12500)
    expect(site.limit_period).toBe("year")

    await page.fill("#site-edit-form input[name=emission_limit_kg_co2e]", "not a number")
    await page.click("#site-edit-form button[type=submit]")
    await page.waitForSelector("#site-edit-form-error")
    await page.fill("#site-edit-form input[name=emission_limit_kg_co2e]", "900")
    await page.click("#site-edit-form button[type=submit]")
    await page.waitForSelector("#site-notice .notice")
    const changed = (await (await api.get(`/v1/sites/${site.id}`)).json()) as { site: { emission_limit_kg_co2e: number | string } }
    expect(Number(changed.site.emission_limit_kg_co2e)).toBe(900)
    expect(await axeViolations(page)).toEqual([])
    await page.close()

    const viewer = await signInPage(browser, server.url, "viewer@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await viewer.goto(`${server.url}/sites/${site.id}`)
    expect(await viewer.locator("#site-edit-form").count()).toBe(0)
    await viewer.goto(`${server.url}/sites`)
    expect(await viewer.locator("#site-create-form").count()).toBe(0)
    await viewer.close()
  }, 60_000)

  const fillSiteForm = async (page: Page, fields: Record<string, string>) => {
    for (const [name, value] of Object.entries(fields)) await page.fill(`#site-create-form input[name=${name}]`, value)
  }

  test("a double click on Add site sends the form once: one site, no 'code taken' for the user's own site", async () => {
    const page = await signInPage(browser, server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${server.url}/sites`)
    await fillSiteForm(page, { code: "DBL-1", name: "Double click", country: "GB" })
    const posts: Array<string> = []
    page.on("request", (request) => void (request.method() === "POST" && posts.push(request.url())))
    await page.dblclick("#site-create-form button[type=submit]")
    await page.waitForSelector("#site-total")
    expect(await page.textContent("h1")).toBe("Double click (DBL-1)")
    expect(posts).toHaveLength(1)
    const [{ n }] = await sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'site_created' AND details::text LIKE '%DBL-1%'`
    expect(n).toBe(1)
    await page.close()
  }, 60_000)

  test("a limit with a comma that is not a thousands separator is refused, not read without it", async () => {
    const page = await signInPage(browser, server.url, "accountant@demo.scopeline.dev", DEMO_TEST_PASSWORD)
    await page.goto(`${server.url}/sites`)
    await fillSiteForm(page, { code: "COMMA-1", name: "Decimal comma", country: "DE", emission_limit_kg_co2e: "1,5" })
    await page.click("#site-create-form button[type=submit]")
    await page.waitForSelector("#site-create-form-error")
    expect(await page.inputValue("#site-create-form input[name=emission_limit_kg_co2e]")).toBe("1,5")
    expect(await sql`SELECT 1 FROM sites WHERE code = 'COMMA-1'`).toHaveLength(0)
    await page.close()
  }, 60_000)

  test("GET /v1/sites pages by offset and limit", async () => {
    const first = (await (await api.get("/v1/sites?limit=1")).json()) as { total: number; limit: number; sites: Array<{ code: string }> }
    expect(first.limit).toBe(1)
    expect(first.sites).toHaveLength(1)
    expect(first.total).toBeGreaterThanOrEqual(2)
    const second = (await (await api.get("/v1/sites?limit=1&offset=1")).json()) as { sites: Array<{ code: string }> }
    expect(second.sites[0]!.code).not.toBe(first.sites[0]!.code)
    expect((await api.get("/v1/sites?limit=0")).status).toBe(400)
  })
})
