import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser, Page } from "playwright-core"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"
import type { TestServer } from "../support/server.ts"
import { type RunningProduct, SAMPLE, startProduct } from "../support/product.ts"

let product: RunningProduct
let server: TestServer
let browser: Browser

beforeAll(async () => {
  product = await startProduct()
  ;({ server, browser } = product)
}, 60_000)
afterAll(() => product?.stop())

/**
 * Everything the browser says about the Content-Security-Policy: Chromium logs each blocked script,
 * style or handler to the console, and fires `securitypolicyviolation`, which the init script (run
 * by the browser itself, so not subject to the policy) records too.
 */
const watchViolations = async (page: Page) => {
  const violations: string[] = []
  page.on("console", (message) => {
    if (/content security policy/i.test(message.text())) violations.push(message.text())
  })
  page.on("pageerror", (error) => violations.push(`page error: ${error.message}`))
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) =>
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`),
    )
  })
  return violations
}

describe("the pages work under the Content-Security-Policy", () => {
  test("signing in, uploading and browsing every page breaks no rule of the policy", async () => {
    const page = await browser.newPage()
    const violations = await watchViolations(page)
    await page.goto(`${server.url}/login`)
    await page.fill("input[name=login]", "admin@demo.scopeline.dev")
    await page.fill("input[name=password]", DEMO_TEST_PASSWORD)
    await page.click("button[type=submit]")
    await page.waitForSelector("#announcement")

    await page.click("nav >> text=Uploads")
    await page.waitForSelector("#upload-form")
    await page.setInputFiles("#upload-file", SAMPLE)
    await page.click("#upload-form button[type=submit]")
    await page.waitForURL(/\/uploads\/[0-9a-f-]{36}$/)
    await page.waitForSelector('#upload-status[data-status="parsed"]', { timeout: 30_000 })

    for (const href of await page.$$eval("nav a", (links) => links.map((a) => a.getAttribute("href") ?? "/"))) {
      // Boosted navigation (htmx swaps the page) as a person clicking would, not a fresh load.
      await page.click(`nav a[href="${href}"]`)
      await page.waitForURL((url) => url.pathname === href)
      await page.waitForLoadState("networkidle")
    }
    await page.goto(`${server.url}/activities`)
    await page.waitForSelector("table")
    await page.click("text=Sign out")
    await page.waitForURL(/\/login/)
    await page.close()
    expect(violations).toEqual([])
  }, 90_000)
})
