import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { signInPage } from "../support/browser.ts"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"
import type { TestServer } from "../support/server.ts"
import { type RunningProduct, SAMPLE, startProduct } from "../support/product.ts"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { OPTIONAL_COLUMNS, REQUIRED_COLUMNS } from "@scopeline/uploads/parse/columns"

let product: RunningProduct
let server: TestServer
let browser: Browser

beforeAll(async () => {
  product = await startProduct()
  ;({ server, browser } = product)
}, 60_000)
afterAll(() => product?.stop())

const signIn = (email: string) => signInPage(browser, server.url, email, DEMO_TEST_PASSWORD)

describe("uploading through the page", () => {
  test("an accountant uploads the sample file and watches it get parsed and matched", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.click("nav >> text=Uploads")
    await page.waitForSelector("#upload-form")
    await page.setInputFiles("#upload-file", SAMPLE)
    await page.click("#upload-form button[type=submit]")
    await page.waitForURL(/\/uploads\/[0-9a-f-]{36}$/)
    // The status panel refreshes itself until parsing and matching are over.
    await page.waitForSelector('#upload-status[data-status="parsed"]', { timeout: 30_000 })
    await page.waitForFunction(
      () => !document.querySelector("#upload-status")?.hasAttribute("hx-trigger"),
      undefined,
      { timeout: 30_000 },
    )
    const progress = await page.textContent("#upload-status")
    expect(progress).toContain("16 of 16 settled")
    expect(progress).toContain("calculated: 16")
    await page.click("text=See the activities")
    await page.waitForSelector("table")
    expect(await page.textContent("main")).toContain("Store electricity - Tampines outlet")
    // The kg CO2e the page shows is the pipeline's: quantity × the published factor it matched.
    const shown = await page.textContent('tr:has-text("Store electricity - Tampines outlet"):has-text("41,250 kWh") td.emissions')
    const { activities } = (await page.evaluate(async () => (await fetch("/v1/activities?limit=100")).json())) as {
      activities: ReadonlyArray<{ description: string; quantity: number; unit: string; emission_factor: { id: string } | null }>
    }
    const tampines = activities.find((a) => a.description === "Store electricity - Tampines outlet" && a.quantity === 41250)!
    const factor = (await page.evaluate(async (id) => (await fetch(`/v1/emission-factors/${id}`)).json(), tampines.emission_factor!.id)) as {
      unit: string
      factor: { value: string }
    }
    expect([tampines.unit, factor.unit]).toEqual(["kWh", "kWh"])
    // Over a tonne, so the page shows t CO2e: the same product, read in tonnes to the kilogram.
    const kg = 41250 * Number(factor.factor.value)
    expect(kg).toBeGreaterThan(1000)
    expect(shown?.trim()).toBe(`${(kg / 1000).toLocaleString("en-GB", { maximumFractionDigits: 3 })} t CO2e`)
    await page.close()
  })

  test("a rejected file shows the row errors in a table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-upload-"))
    const file = join(dir, "bad.csv")
    writeFileSync(file, "description,quantity,unit,date\nDiesel,12,L,2024-01-01\nElectricity,five,kWh,2024-13-01\n")
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    await page.setInputFiles("#upload-file", file)
    await page.click("#upload-form button[type=submit]")
    await page.waitForSelector('#upload-status[data-status="failed"]', { timeout: 30_000 })
    expect(await page.textContent("#failure-reason")).toContain("Nothing was imported")
    // The file was uploaded and read; reading it rejected it, so nothing was imported.
    expect(await page.locator("#upload-status ol.steps li").allTextContents()).toEqual(["✓ Waiting for the file", "✓ Uploaded", "✓ Reading rows", "Imported", "Rejected"])
    expect(await page.getAttribute("#upload-status li.failed", "aria-current")).toBe("step")
    const cells = await page.$$eval("#row-errors tbody tr", (rows) => rows.map((row) => Array.from(row.querySelectorAll("td"), (td) => td.textContent?.trim())))
    expect(cells).toEqual([
      ["3", "quantity", "five", "quantity is not a number"],
      ["3", "date", "2024-13-01", "date is not a real calendar date"],
    ])
    await page.close()
  })

  test("a hostile file name is shown as text on every page that names it", async () => {
    const hostile = `</title><script>window.__pwned = 1</script><b id="injected">x</b>.csv`
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    const file = join(mkdtempSync(join(tmpdir(), "hostile-")), "activities.csv")
    writeFileSync(file, "description,quantity,unit,date\nDiesel,1,L,2024-01-01\n")
    // The browser sends its own file name; set the hostile one the way a script would.
    const id = await page.evaluate(async (name) => {
      const token = JSON.parse(document.body.getAttribute("hx-headers:inherited") ?? "{}")["x-csrf-token"]
      const target = await (await fetch(`/v1/upload/new?filename=${encodeURIComponent(name)}`, { headers: { "x-csrf-token": token } })).json()
      return target.upload_id as string
    }, hostile)
    for (const path of [`/uploads/${id}`, "/uploads"]) {
      await page.goto(`${server.url}${path}`)
      await page.waitForSelector("h1")
      expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined()
      expect(await page.$("#injected")).toBeNull()
      if (path !== "/uploads") expect(await page.title()).toBe(`${hostile} · Scopeline`)
    }
    await page.close()
  })

  test("the upload form names every column a file may have", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    const named = await page.locator("#upload-card p.muted code").allTextContents()
    expect([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].filter((column) => !named.includes(column))).toEqual([])
    await page.close()
  })

  test("a viewer sees the uploads but no upload control", async () => {
    const page = await signIn("viewer@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    await page.waitForSelector("h1")
    expect(await page.$("#upload-form")).toBeNull()
    expect(await page.$("#uploads-table")).not.toBeNull()
    await page.close()
  })
})
