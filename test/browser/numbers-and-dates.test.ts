import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import type { Browser, Page } from "playwright-core"
import { signInPage } from "../support/browser.ts"
import { insertDeadLetter, testSql } from "../support/factories.ts"
import { crawl, noisyNumbers, visibleText } from "../support/pages.ts"
import { DEMO_TEST_PASSWORD } from "../support/seed.ts"
import type { TestServer } from "../support/server.ts"
import { type RunningProduct, SAMPLE, startProduct } from "../support/product.ts"

let product: RunningProduct
let server: TestServer
let browser: Browser
let sql: SQL
let uploadId: string

const signIn = (email: string) => signInPage(browser, server.url, email, DEMO_TEST_PASSWORD)
const cookieOf = async (page: Page) => (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ")

beforeAll(async () => {
  product = await startProduct()
  ;({ server, browser } = product)
  sql = testSql(server.databaseUrl)
  // The demo data as `bun run dev` users see it: the catalogue, the sample file parsed and matched.
  const page = await signIn("accountant@demo.scopeline.dev")
  await page.goto(`${server.url}/uploads`)
  await page.setInputFiles("#upload-file", SAMPLE)
  await page.click("#upload-form button[type=submit]")
  await page.waitForURL(/\/uploads\/[0-9a-f-]{36}$/)
  uploadId = new URL(page.url()).pathname.split("/").pop()!
  await page.waitForFunction(() => !document.querySelector("#upload-status")?.hasAttribute("hx-trigger"), undefined, { timeout: 30_000 })
  await page.close()
  await insertDeadLetter(sql, "match", { match_key: "diesel|litres|GB" }, "matcher timed out")
  // Preferences are set where the account keeps them, so the test does not depend on the account page.
  await sql`UPDATE users SET timezone = 'Asia/Singapore', time_format = 12 WHERE email = 'admin@demo.scopeline.dev'`
}, 90_000)
afterAll(async () => {
  await sql?.close()
  await product?.stop()
})

describe("numbers on pages", () => {
  test("the noise check spots floating-point residue and lets published figures, dates and ids through", () => {
    for (const noisy of ["0.059130000000000002", "752.02760000000001", "16500.000000000004", "0.30000000000000004", "2.9999999999", "1e-7", "7.9E-2"]) {
      expect(noisyNumbers(`Value ${noisy} kg CO2e`)).toEqual([noisy])
    }
    expect(noisyNumbers("3,033.3806711409397 kg CO2e · 0.07933247516778524 · 2026-03-01 · 1–25 of 2,796 · 19.388 t CO2e")).toEqual([])
    expect(noisyNumbers("Id 3e4a17c2-0000-4000-8000-000000000001 · version 0.1.0")).toEqual([])
    expect(noisyNumbers("Correlation 9635643e-8808-4cc1-8a6a-4c56ead09aa5")).toEqual([])
  })

  test("no page, with the demo data, prints a number with floating-point noise", async () => {
    const page = await signIn("admin@demo.scopeline.dev")
    const pages = await crawl(server.url, await cookieOf(page), { start: ["/", `/uploads/${uploadId}`] })
    await page.close()
    // Every factor page and every page of the catalogue: each factor value is printed somewhere.
    const factorPages = [...pages.keys()].filter((path) => /^\/catalogue\/[0-9a-f-]{36}$/.test(path))
    const broken = [...pages].filter(([, p]) => p.status === 0 || p.status >= 500).map(([path, p]) => `${path}: ${p.status} ${p.html.slice(0, 200)}`)
    expect(broken).toEqual([])
    const redirected = [...pages].filter(([, p]) => p.status >= 300 && p.status < 400).map(([path, p]) => `${path}: ${p.status}`)
    expect(redirected).toEqual([])
    expect(factorPages.length).toBe(2796)
    const noisy = [...pages].flatMap(([path, { html }]) => noisyNumbers(visibleText(html)).map((n) => `${path}: ${n}`))
    expect(noisy).toEqual([])
  }, 240_000)

  test("emissions read as kg CO2e under 1,000 kg and t CO2e above, grouped; the API keeps every digit", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.goto(`${server.url}/activities?upload_id=${uploadId}&limit=100`)
    const cells = await page.$$eval("td.emissions", (tds) => tds.map((td) => td.textContent?.trim() ?? ""))
    const { activities } = (await page.evaluate(async (id) => (await fetch(`/v1/activities?upload_id=${id}&limit=100`)).json(), uploadId)) as {
      activities: ReadonlyArray<{ emissions: { amount: { unit: string; quantity: number } } | null }>
    }
    await page.close()
    expect(cells.length).toBe(16)
    const units = new Set<string>()
    for (const cell of cells) {
      const match = /^(\d{1,3}(?:,\d{3})*(?:\.\d{1,3})?) (kg|t) CO2e$/.exec(cell)
      expect(match, cell).not.toBeNull()
      const amount = Number(match![1]!.replaceAll(",", ""))
      if (match![2] === "kg") expect(amount).toBeLessThan(1000)
      units.add(match![2]!)
    }
    // The sample has both small and large emitters: both units appear, each labelled.
    expect([...units].sort()).toEqual(["kg", "t"])
    // The API is for machines: always kg, never rounded for reading.
    expect(activities.map((a) => a.emissions?.amount.unit)).toEqual(activities.map(() => "kg CO2e"))
    expect(activities.some((a) => !Number.isInteger((a.emissions?.amount.quantity ?? 0) * 1000))).toBe(true)
  }, 60_000)
})

describe("dates and times on pages", () => {
  test("every timestamp is in the reader's zone and clock with the zone named; the API stays UTC", async () => {
    const admin = await signIn("admin@demo.scopeline.dev")
    await admin.goto(`${server.url}/uploads`)
    const uploaded = await admin.$eval("#uploads-table tbody tr time", (t) => ({ iso: t.getAttribute("datetime")!, text: t.textContent!.trim() }))
    const api = (await admin.evaluate(async () => (await fetch("/v1/uploads")).json())) as { uploads: ReadonlyArray<{ id: string; created_at: string }> }
    const created = api.uploads.find((u) => u.id === uploadId)!.created_at
    expect(created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
    expect(uploaded.iso).toBe(created)
    // Written out independently of the page's formatter: Singapore is UTC+8 all year.
    const local = new Date(Date.parse(created) + 8 * 3600_000)
    const hour12 = local.getUTCHours() % 12 === 0 ? 12 : local.getUTCHours() % 12
    const expected = `${local.toISOString().slice(0, 10)} ${hour12}:${local.toISOString().slice(14, 16)} ${local.getUTCHours() < 12 ? "AM" : "PM"} Asia/Singapore`
    expect(uploaded.text).toBe(expected)

    await admin.goto(`${server.url}/ops`)
    const dead = await admin.$eval("#dead-letters tbody tr time", (t) => t.textContent!.trim())
    expect(dead).toMatch(/^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2} (AM|PM) Asia\/Singapore$/)
    await admin.goto(`${server.url}/activities`)
    expect(await admin.textContent(`select[name=upload_id] option[value="${uploadId}"]`)).toContain(` · ${expected} · `)
    await admin.close()

    const accountant = await signIn("accountant@demo.scopeline.dev")
    await accountant.goto(`${server.url}/uploads`)
    const utc = await accountant.$eval("#uploads-table tbody tr time", (t) => t.textContent!.trim())
    expect(utc).toBe(`${created.slice(0, 10)} ${created.slice(11, 16)} UTC`)
    await accountant.close()
  }, 60_000)

  test("no page shows a time without its zone, or a raw ISO timestamp", async () => {
    const page = await signIn("admin@demo.scopeline.dev")
    const pages = await crawl(server.url, await cookieOf(page), { start: ["/", `/uploads/${uploadId}`], onePerKind: true })
    await page.close()
    const problems: string[] = []
    for (const [path, { html }] of pages) {
      const text = visibleText(html)
      for (const [raw] of text.matchAll(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/g)) problems.push(`${path}: raw ISO ${raw}`)
      for (const [time] of text.matchAll(/(?<![\d:])\d{1,2}:\d{2}(?::\d{2})?(?![\d:])(?! (?:AM|PM) Asia\/Singapore)/g)) problems.push(`${path}: ${time} without the reader's zone`)
    }
    expect(pages.size).toBeGreaterThan(5)
    expect(problems).toEqual([])
  }, 60_000)
})
