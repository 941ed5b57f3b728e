import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import type { Browser } from "playwright-core"
import { launchBrowser, signInPage } from "../support/browser.ts"
import { insertActivities, insertDeadLetter, insertFactor, insertUpload, testSql, dieselFactor } from "../support/factories.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let browser: Browser
let sql: SQL
let diesel: string

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  diesel = await insertFactor(sql, dieselFactor)
  const upload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "fleet.csv" })
  await insertActivities(sql, upload, [
    { description: "Diesel for delivery vans", quantity: "100", unit: "litres", date: "2026-03-01", status: "calculated", factorId: diesel, confidence: "0.95", emissions: "251.279", matchSource: "ai" },
    { description: "Diesel for the generator", quantity: "40", unit: "litres", date: "2026-03-02", status: "calculated", factorId: diesel, confidence: "0.9", emissions: "100.5116", matchSource: "cache" },
    { description: `<b id="injected">Widgets</b>`, quantity: "3", unit: "kg", date: "2026-03-03", status: "failed", failureReason: "No factor fits kg widgets." },
  ])
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await sql?.close()
  await server?.stop()
})

const signIn = (email: string) => signInPage(browser, server.url, email, DEMO_TEST_PASSWORD)

describe("the activities page", () => {
  test("an accountant sees emissions, filters by status, and follows a factor to the catalogue", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.click("nav >> text=Activities")
    await page.waitForSelector("#activities-table table")
    expect(new URL(page.url()).pathname).toBe("/activities")
    const rows = page.locator("#activities-table tbody tr")
    expect(await rows.count()).toBe(3)
    expect(await rows.nth(0).locator(".emissions").textContent()).toBe("251.279 kg CO2e")
    expect(await rows.nth(0).locator("a.factor-link").textContent()).toBe("Diesel (average biofuel blend)")
    expect(await rows.nth(0).locator(".match").textContent()).toBe("ai · 95%")
    // The hostile description is shown as text, never parsed as markup.
    expect(await page.$("#injected")).toBeNull()
    expect(await rows.nth(2).locator("td").first().textContent()).toBe(`<b id="injected">Widgets</b>`)

    // Filtering swaps only the table: the marker on the form survives, the layout is not nested.
    await page.evaluate(() => document.querySelector("#activity-filters")?.setAttribute("data-marker", "kept"))
    await page.selectOption("select[name=status]", "failed")
    await page.click("#activity-filters button[type=submit]")
    await page.waitForFunction(() => document.querySelectorAll("#activities-table tbody tr").length === 1)
    expect(await page.getAttribute("#activity-filters", "data-marker")).toBe("kept")
    expect(await page.locator("header.topbar").count()).toBe(1)
    expect(await page.locator("#activities-table .status").last().textContent()).toBe("failed")
    expect(await page.locator("#activities-table .failure").textContent()).toBe("No factor fits kg widgets.")

    await page.selectOption("select[name=status]", "calculated")
    await page.click("#activity-filters button[type=submit]")
    await page.waitForFunction(() => document.querySelectorAll("#activities-table a.factor-link").length === 2)
    await page.locator("#activities-table a.factor-link").first().click()
    await page.waitForSelector("#factor")
    expect(new URL(page.url()).pathname).toBe(`/catalogue/${diesel}`)
    expect(await page.textContent("#factor h1")).toBe("Diesel (average biofuel blend)")
    expect(await page.textContent("#factor-ref")).toBe("DESNZ:2023:1_100_1000_15_1")
    expect(await page.textContent("#factor-licence")).toBe("OGL v3.0")
    expect(await page.textContent("#factor-attribution")).toContain("Open Government Licence")
    await page.close()
  })

  test("an activity's page writes its calculation out term by term, in its own unit and the factor's", async () => {
    const upload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "depot.csv" })
    // 1,250 m3 of diesel priced per litre: 1,250 × 1,000 L per m3 × 2.51279 kg CO2e per litre.
    const [id] = await insertActivities(sql, upload, [
      { description: "Diesel delivered to the depot tank", quantity: "1250", unit: "m3", date: "2026-03-04", status: "calculated", factorId: diesel, confidence: "0.9", emissions: "3140987.5", matchSource: "ai" },
    ])
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/activities/${id}`)
    expect(await page.textContent("#activity-quantity")).toBe("1,250 m3")
    expect(await page.textContent("#activity-calculation")).toBe("1,250 m3 × 1,000 L per m3 × 2.51279 kg CO2e per litres = 3,140,987.5 kg CO2e")
    expect(await page.textContent("#activity-emissions")).toBe("3,140.988 t CO2e")
    // An activity already in the factor's unit has no conversion term.
    await page.goto(`${server.url}/activities`)
    await page.click("text=Diesel for delivery vans")
    await page.waitForSelector("#activity-calculation")
    expect(await page.textContent("#activity-calculation")).toBe("100 litres × 2.51279 kg CO2e per litres = 251.279 kg CO2e")
    // The list groups the digits too.
    await page.goto(`${server.url}/activities`)
    expect(await page.locator("#activities-table tbody tr", { hasText: "depot tank" }).locator("td").nth(1).textContent()).toBe("1,250 m3")
    await page.close()
  })

  test("the catalogue search finds a factor", async () => {
    const page = await signIn("viewer@demo.scopeline.dev")
    await page.goto(`${server.url}/catalogue`)
    await page.fill("input[name=q]", "diesel")
    await page.click("#catalogue-search button[type=submit]")
    await page.waitForSelector("#catalogue-results a[href^='/catalogue/']")
    expect(await page.textContent("#catalogue-results")).toContain("1–1 of 1 factors")
    await page.close()
  })
})

describe("the operations page", () => {
  test("an admin replays a dead letter and it leaves the list", async () => {
    const keep = await insertDeadLetter(sql, "parse", { upload_id: "stays" }, "blob missing")
    const replay = await insertDeadLetter(sql, "match", { match_key: "goes" }, "matcher timed out")
    const page = await signIn("admin@demo.scopeline.dev")
    await page.click("nav >> text=Operations")
    await page.waitForSelector("#dead-letters table")
    expect(await page.textContent("#health-database")).toBe("reachable")
    expect(await page.textContent("tr[data-queue=match]")).toContain("1")
    const row = page.locator(`tr[data-dead-letter="match/${replay}"]`)
    expect(await row.locator(".failure").textContent()).toBe("matcher timed out")
    await row.locator("button.replay").click()
    await page.waitForSelector(`tr[data-dead-letter="match/${replay}"]`, { state: "detached" })
    expect(await page.textContent("#dead-letters .notice")).toContain(`Replayed match message ${replay}`)
    expect(await page.locator(`tr[data-dead-letter="parse/${keep}"]`).count()).toBe(1)
    const [waiting] = (await sql`SELECT count(*)::int AS n FROM queue_messages WHERE queue = 'match'`) as Array<{ n: number }>
    expect(waiting!.n).toBe(1)
    await page.close()
  })

  test("a viewer visiting /ops gets a readable 403 page, and no Operations link", async () => {
    const page = await signIn("viewer@demo.scopeline.dev")
    expect(await page.locator("nav >> text=Operations").count()).toBe(0)
    const response = await page.goto(`${server.url}/ops`)
    expect(response?.status()).toBe(403)
    expect(await page.textContent("#error-page h1")).toBe("Not allowed")
    expect(await page.textContent("#error-page")).toContain("Your role (viewer) does not allow this action.")
    await page.close()
  })
})
