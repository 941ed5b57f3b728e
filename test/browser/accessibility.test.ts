import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { join } from "node:path"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import type { Browser, Page } from "playwright-core"
import { axeViolations, keyboardProblems, signInPage } from "../support/browser.ts"
import { insertDeadLetter, testSql } from "../support/factories.ts"
import { crawl, pageKind } from "../support/pages.ts"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"
import type { TestServer } from "../support/server.ts"
import { type RunningProduct, SAMPLE, startProduct } from "../support/product.ts"

let product: RunningProduct
let server: TestServer
let browser: Browser
let sql: SQL
let parsedUpload: string
let failedUpload: string

const signIn = (email: string) => signInPage(browser, server.url, email, DEMO_TEST_PASSWORD)

const uploadThroughPage = async (page: Page, file: string, status: "parsed" | "failed") => {
  await page.goto(`${server.url}/uploads`)
  await page.setInputFiles("#upload-file", file)
  await page.click("#upload-form button[type=submit]")
  await page.waitForSelector(`#upload-status[data-status="${status}"]`, { timeout: 30_000 })
  return new URL(page.url()).pathname.split("/").pop()!
}

beforeAll(async () => {
  product = await startProduct()
  ;({ server, browser } = product)
  sql = testSql(server.databaseUrl)
  const page = await signIn("accountant@demo.scopeline.dev")
  parsedUpload = await uploadThroughPage(page, SAMPLE, "parsed")
  await page.waitForFunction(() => !document.querySelector("#upload-status")?.hasAttribute("hx-trigger"), undefined, { timeout: 30_000 })
  const bad = join(mkdtempSync(join(tmpdir(), "a11y-")), "bad.csv")
  writeFileSync(bad, "description,quantity,unit,date\nDiesel,12,L,2024-01-01\nElectricity,five,kWh,2024-13-01\n")
  failedUpload = await uploadThroughPage(page, bad, "failed")
  await page.close()
  await insertDeadLetter(sql, "match", { match_key: "diesel|litres|GB" }, "matcher timed out")
}, 90_000)
afterAll(async () => {
  await sql?.close()
  await product?.stop()
})

const sessionCookie = async (page: Page) =>
  (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ")

/** Runs both checks on the page as it stands and returns every problem found. */
const problemsOn = async (page: Page) => [...(await axeViolations(page)), ...(await keyboardProblems(page))]

describe("accessibility of every page", () => {
  test("the check itself reports an unlabelled field, a header-less table cell and an unreachable control", async () => {
    const page = await browser.newPage()
    await page.setContent(`<!doctype html><html lang="en"><head><title>t</title></head><body><main>
      <h1>Probe</h1><input type="text" name="q"><div id="fake" hx-post="/x">Replay</div>
      <a href="/a" tabindex="-1">Hidden from Tab</a></main></body></html>`)
    const axe = await axeViolations(page)
    expect(axe.some((line) => line.includes("label (critical)"))).toBe(true)
    const keyboard = await keyboardProblems(page)
    expect(keyboard.some((line) => line.includes("div#fake acts on a click but is no control"))).toBe(true)
    expect(keyboard.some((line) => line.includes(`a "Hidden from Tab" is never reached by Tab`))).toBe(true)
    await page.close()
  })

  test("every kind of page, for every role and signed out, passes axe's WCAG 2.1 A/AA rules and works by keyboard", async () => {
    const problems: string[] = []
    const seen = new Set<string>()
    // The keyboard walk is the slow part; the admin sees every control the other roles see.
    const checkAll = async (page: Page, paths: Iterable<string>, keyboard: boolean) => {
      for (const path of paths) {
        await page.goto(`${server.url}${path}`)
        await page.waitForLoadState("networkidle")
        problems.push(...(await axeViolations(page)), ...(keyboard ? await keyboardProblems(page) : []))
        seen.add(path)
      }
    }
    for (const email of ["admin@demo.scopeline.dev", "accountant@demo.scopeline.dev", "viewer@demo.scopeline.dev"]) {
      const page = await signIn(email)
      // Every page its links lead to, one of each kind: a factor is like any other factor.
      const pages = await crawl(server.url, await sessionCookie(page), { start: ["/", `/uploads/${parsedUpload}`, `/uploads/${failedUpload}`], onePerKind: true })
      const kinds = new Map([...pages.keys()].map((path) => [pageKind(path), path]))
      expect(kinds.size).toBeGreaterThan(5)
      const keyboard = email.startsWith("admin")
      await checkAll(page, kinds.values(), keyboard)
      // Pages that are reached by typing or by a refusal rather than by a link.
      await checkAll(page, ["/no-such-page", "/catalogue/00000000-0000-4000-8000-000000000000", ...(email.startsWith("viewer") ? ["/ops"] : [])], keyboard)
      await page.close()
    }
    const anonymous = await browser.newPage()
    await checkAll(anonymous, ["/login"], true)
    await anonymous.fill("input[name=login]", "viewer@demo.scopeline.dev")
    await anonymous.fill("input[name=password]", "wrong password")
    await anonymous.click("button[type=submit]")
    await anonymous.waitForSelector(".alert.error")
    problems.push(...(await problemsOn(anonymous)))
    await anonymous.close()
    expect([...seen]).toEqual(expect.arrayContaining(["/", "/uploads", "/activities", "/catalogue", "/ops", "/login"]))
    expect(problems).toEqual([])
  }, 240_000)

  test("parts of pages that htmx swaps in pass too: filtered activities, search results, a replayed dead letter", async () => {
    const page = await signIn("admin@demo.scopeline.dev")
    await page.goto(`${server.url}/activities`)
    await page.selectOption("select[name=status]", "calculated")
    await page.click("#activity-filters button[type=submit]")
    await page.waitForURL(/status=calculated/)
    await page.waitForSelector("#activities-table tbody tr")
    const problems = [...(await problemsOn(page))]
    await page.goto(`${server.url}/catalogue`)
    await page.fill("input[name=q]", "diesel")
    await page.click("#catalogue-search button[type=submit]")
    await page.waitForURL(/q=diesel/)
    await page.waitForSelector("#catalogue-results tbody tr")
    problems.push(...(await problemsOn(page)))
    await page.goto(`${server.url}/ops`)
    await page.locator("button.replay").first().click()
    await page.waitForSelector("#dead-letters .notice")
    problems.push(...(await problemsOn(page)))
    expect(problems).toEqual([])
    await page.close()
  }, 60_000)

  test("the dark theme passes too (contrast is checked per theme)", async () => {
    const page = await signIn("admin@demo.scopeline.dev")
    // What the theme selector stores; set directly, since the selector is rolled out to half the users.
    await page.evaluate(() => localStorage.setItem("scopeline-theme", "dark"))
    const problems: string[] = []
    for (const path of ["/", "/uploads", `/uploads/${failedUpload}`, "/activities", "/catalogue", "/ops"]) {
      await page.goto(`${server.url}${path}`)
      expect(await page.getAttribute("html", "data-theme")).toBe("dark")
      problems.push(...(await axeViolations(page)))
    }
    expect(problems).toEqual([])
    await page.close()
  }, 60_000)

  test("the upload's live progress stays one live region, changed in place, so each step is announced", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    // An upload whose file has not arrived yet: its page is live (polling) for as long as we wait.
    const target = await page.evaluate(async () => {
      const token = JSON.parse(document.body.getAttribute("hx-headers:inherited") ?? "{}")["x-csrf-token"]
      return (await (await fetch("/v1/upload/new?filename=live.csv", { headers: { "x-csrf-token": token } })).json()) as {
        upload_id: string
        method: string
        url: string
        headers?: Record<string, string>
        fields?: Record<string, string>
      }
    })
    await page.goto(`${server.url}/uploads/${target.upload_id}`)
    await page.waitForSelector('#upload-status[data-status="pending_upload"][hx-trigger]')
    // Mark the live regions and record what they say: a panel that replaced them would bring
    // unmarked ones, and a screen reader announces nothing for a live region that arrives filled.
    await page.evaluate(() => {
      const said: string[] = ((window as unknown as { said: string[] }).said = [])
      for (const id of ["upload-summary", "matching-summary"]) {
        const region = document.getElementById(id) as HTMLElement & { probe?: boolean }
        region.probe = true
        new MutationObserver(() => said.push(`${id}: ${region.textContent?.trim()}`)).observe(region, { subtree: true, childList: true, characterData: true })
      }
    })
    const csv = "description,quantity,unit,date\nDiesel for delivery vans,100,litres,2024-01-05\nStore electricity,41250,kWh,2024-01-31\n"
    await page.evaluate(
      async ({ target, csv }) => {
        const token = JSON.parse(document.body.getAttribute("hx-headers:inherited") ?? "{}")["x-csrf-token"]
        const file = new Blob([csv], { type: "text/csv" })
        let body: BodyInit = file
        if (target.method === "POST") {
          const form = new FormData()
          for (const [key, value] of Object.entries(target.fields ?? {})) form.append(key, value)
          form.append("file", file)
          body = form
        }
        await fetch(target.url, { method: target.method, headers: target.method === "POST" ? {} : (target.headers ?? {}), body })
        await fetch("/v1/upload", {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": token },
          body: JSON.stringify({ upload_id: target.upload_id }),
        })
      },
      { target, csv },
    )
    await page.waitForFunction(() => !document.querySelector("#upload-status")?.hasAttribute("hx-trigger"), undefined, { timeout: 30_000 })
    const regions = await page.evaluate(() =>
      ["upload-summary", "matching-summary"].map((id) => {
        const el = document.getElementById(id) as (HTMLElement & { probe?: boolean }) | null
        return { id, live: el?.getAttribute("aria-live"), kept: el?.probe === true }
      }),
    )
    expect(regions).toEqual([
      { id: "upload-summary", live: "polite", kept: true },
      { id: "matching-summary", live: "polite", kept: true },
    ])
    const said = await page.evaluate(() => (window as unknown as { said: string[] }).said)
    expect(said).toContain("upload-summary: Status: parsed · 2 activities")
    expect(said).toContain("matching-summary: Matching: 2 of 2 settled")
    // Polling stopped with the last answer: nothing asks for the status any more.
    let asked = 0
    page.on("request", (request) => (request.url().includes("/status") ? asked++ : 0))
    await page.waitForTimeout(2_500)
    expect(asked).toBe(0)
    await page.close()
  }, 60_000)

  test("the first Tab on a page offers to skip the navigation, and taking it goes to the page's own content", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/uploads`)
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Skip to content")
    await page.keyboard.press("Enter")
    // The next Tab lands inside the page's content, not on the navigation.
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => document.activeElement?.closest("main") !== null)).toBe(true)
    await page.close()
  })

  test("a person with only a keyboard signs in, filters the activities and replays a dead letter", async () => {
    await insertDeadLetter(sql, "parse", { upload_id: "by-keyboard" }, "blob missing")
    const page = await browser.newPage()
    await page.goto(`${server.url}/login`)
    // The test driver evaluates the predicate in the page; a string keeps it out of Bun's own scope.
    const tabTo = async (source: string) => {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press("Tab")
        if (await page.evaluate(`(${source})(document.activeElement)`)) return
      }
      throw new Error(`Tab never reached ${source}`)
    }
    await tabTo("(el) => el && el.name === 'login'")
    await page.keyboard.type("admin@demo.scopeline.dev")
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEMO_TEST_PASSWORD)
    await page.keyboard.press("Enter")
    await page.waitForSelector("#announcement")
    await tabTo("(el) => el && el.getAttribute('href') === '/activities'")
    await page.keyboard.press("Enter")
    await page.waitForSelector("#activity-filters")
    await tabTo("(el) => el && el.name === 'status'")
    await page.keyboard.press("End")
    const status = await page.inputValue("select[name=status]")
    await tabTo("(el) => el && el.closest('#activity-filters') && el.type === 'submit'")
    await page.keyboard.press("Enter")
    await page.waitForURL(new RegExp(`status=${status}`))
    await tabTo("(el) => el && el.getAttribute('href') === '/ops'")
    await page.keyboard.press("Enter")
    await page.waitForSelector("button.replay")
    const before = await page.locator("button.replay").count()
    await tabTo("(el) => el && el.classList.contains('replay')")
    await page.keyboard.press("Enter")
    await page.waitForSelector("#dead-letters .notice")
    expect(await page.locator("button.replay").count()).toBe(before - 1)
    await page.close()
  }, 60_000)
})
