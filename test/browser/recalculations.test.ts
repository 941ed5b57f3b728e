import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import type { Browser, Page } from "playwright-core"
import { resolve } from "node:path"
import { apiClient } from "../support/api.ts"
import { axeViolations, keyboardProblems, signInPage } from "../support/browser.ts"
import { writeDesnzFixture } from "../support/desnzFixture.ts"
import { insertActivities, insertUpload, testSql } from "../support/factories.ts"
import { noisyNumbers, visibleText } from "../support/pages.ts"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"
import { type RunningProduct, startProduct } from "../support/product.ts"

/**
 * The recalculation pages as a person uses them, with the DESNZ 2024 TEST FIXTURE loaded beside the
 * real catalogue: the crawl of accessibility.test.ts reaches /recalculations from the catalogue, but a
 * recalculation's own page exists only once one has run, so it is checked here.
 */
let product: RunningProduct
let browser: Browser
let sql: SQL
let recalculation: string
let upload: string
let sameName: string

beforeAll(async () => {
  product = await startProduct()
  browser = product.browser
  sql = testSql(product.server.databaseUrl)
  const load = Bun.spawn(["bun", "scripts/catalogue-load.ts", writeDesnzFixture()], {
    cwd: resolve(import.meta.dir, "../.."),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: product.server.databaseUrl },
    stdout: "ignore",
    stderr: "inherit",
  })
  expect(await load.exited).toBe(0)
  upload = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "fleet-2024.csv" })
  // Next month's file, under the same name: the form must tell them apart.
  sameName = await insertUpload(sql, "accountant@demo.scopeline.dev", { filename: "fleet-2024.csv", createdAt: "2024-02-01T09:30:00Z" })
  const factor = async (ref: string) => ((await sql`SELECT id::text AS id FROM emission_factors WHERE ref = ${ref}`) as Array<{ id: string }>)[0]!.id
  await insertActivities(sql, upload, [
    { description: "Diesel for the vans", quantity: "1200", unit: "litres", date: "2024-01-05", status: "calculated", factorId: await factor("DESNZ:2023:1_101_1011_8_1"), emissions: "3014.4766614765103", matchSource: "ai", confidence: "0.9" },
    { description: "Petrol <b>pool</b> car", quantity: "50", unit: "litres", date: "2024-01-07", status: "calculated", factorId: await factor("DESNZ:2023:1_101_1017_8_1"), emissions: "104.87365637583894", matchSource: "ai", confidence: "0.9" },
    { description: "Hotel, London", quantity: "2", unit: "Room per night", date: "2024-01-12", status: "calculated", factorId: await factor("DESNZ:2023:29_600_4001_13_1"), emissions: "23", matchSource: "ai", confidence: "0.9" },
  ])
  const accountant = await apiClient(product.server.url, "accountant@demo.scopeline.dev")
  const started = await accountant.post("/v1/recalculations", { factor_set: "DESNZ:2024", upload_id: upload, preview: true })
  recalculation = ((await started.json()) as { recalculation: { id: string } }).recalculation.id
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const body = (await (await accountant.get(`/v1/recalculations/${recalculation}`)).json()) as { recalculation: { status: string } }
    if (body.recalculation.status === "done") break
    await Bun.sleep(100)
  }
}, 120_000)
afterAll(async () => {
  await sql?.close()
  await product?.stop()
})

const signIn = (email: string): Promise<Page> => signInPage(browser, product.server.url, email, DEMO_TEST_PASSWORD)

describe("recalculation pages", () => {
  test("the list with its form and a recalculation's page pass axe's WCAG 2.1 A/AA rules, work by keyboard, and print no noisy number", async () => {
    for (const [email, theme] of [["accountant@demo.scopeline.dev", "light"], ["viewer@demo.scopeline.dev", "dark"]] as const) {
      const page = await signIn(email)
      // What the theme selector stores (as accessibility.test.ts sets it).
      await page.evaluate((chosen) => localStorage.setItem("scopeline-theme", chosen), theme)
      for (const path of ["/recalculations", `/recalculations/${recalculation}`]) {
        await page.goto(`${product.server.url}${path}`)
        expect(await page.getAttribute("html", "data-theme")).toBe(theme)
        expect([...(await axeViolations(page)), ...(await keyboardProblems(page))]).toEqual([])
        const text = visibleText(await page.content())
        expect(noisyNumbers(text)).toEqual([])
      }
      await page.close()
    }
  }, 120_000)

  test("a recalculation's page shows the restatement in kg CO2e and escapes what activities say", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${product.server.url}/recalculations/${recalculation}`)
    expect(await page.textContent("h1")).toBe("Preview of a recalculation on DESNZ:2024")
    expect(await page.textContent("#count-changed")).toBe("2")
    expect(await page.textContent("#count-unmapped")).toBe("1")
    const cells = await page.$$eval("#restatement-by-scope td", (tds) => tds.map((td) => td.textContent?.trim() ?? ""))
    for (const cell of cells) expect(cell).toMatch(/^(no change|[+−]?\d{1,3}(,\d{3})*(\.\d{1,3})? (kg|t) CO2e)$/)
    expect(await page.$$eval("#unmapped-table td", (tds) => tds.map((td) => td.textContent))).toContain("Petrol <b>pool</b> car")
    expect(await page.$("#unmapped-table b")).toBeNull()
    await page.close()
  }, 60_000)

  test("the form offers uploads by file and time, not by id, and a recalculation names its upload the same way", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${product.server.url}/recalculations`)
    const options = await page.$$eval("#recalculation-upload option", (all) =>
      all.map((option) => ({ value: (option as HTMLOptionElement).value, text: option.textContent ?? "" })),
    )
    expect(options[0]).toEqual({ value: "", text: "Every upload" })
    const ours = options.filter((option) => option.text.includes("fleet-2024.csv"))
    expect(ours.map((option) => option.value).sort()).toEqual([upload, sameName].sort())
    // Two files of one name are two different choices, and no choice reads as an id.
    expect(new Set(ours.map((option) => option.text)).size).toBe(2)
    for (const option of options) expect(option.text).not.toContain(option.value || "-")
    const label = ours.find((option) => option.value === upload)!.text.replace(/^Only /, "")
    // The recalculation started before the page loaded is listed by its upload's label, linked to it.
    const listed = page.locator(`tr[data-recalculation="${recalculation}"] a[href="/uploads/${upload}"]`)
    expect(await listed.textContent()).toBe(label)

    await page.selectOption("#recalculation-factor-set", "DESNZ:2024")
    await page.selectOption("#recalculation-upload", sameName)
    await Promise.all([page.waitForURL(/\/recalculations\/[0-9a-f-]{36}$/), page.click("#recalculation-form button[type=submit]")])
    const chosen = await page.$eval(`a[href="/uploads/${sameName}"]`, (a) => a.textContent)
    expect(chosen).toBe(ours.find((option) => option.value === sameName)!.text.replace(/^Only /, ""))
    await page.close()
  }, 60_000)
})
