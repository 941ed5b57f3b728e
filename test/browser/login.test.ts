import { csrfTokenFor } from "@scopeline/ui/session"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser } from "playwright-core"
import { launchBrowser } from "../support/browser.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let browser: Browser

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

const signIn = async (email: string, password = DEMO_TEST_PASSWORD) => {
  const page = await browser.newPage()
  await page.goto(`${server.url}/`)
  await page.waitForSelector("#login-form")
  await page.fill("input[name=login]", email)
  await page.fill("input[name=password]", password)
  await page.click("button[type=submit]")
  return page
}

describe("signing in through the page", () => {
  test("an accountant signs in and sees the home page with announcement, tips and navigation", async () => {
    const page = await signIn("accountant@demo.scopeline.dev")
    await page.waitForSelector("#announcement")
    expect(await page.textContent("h1")).toContain("Welcome, Chidi")
    expect(await page.isVisible("#product-tips")).toBe(true)
    expect(await page.textContent(".role")).toBe("accountant")
    expect(new URL(page.url()).pathname).toBe("/")
    // Each card says what is there, and every part of the product the role may see is in the navigation.
    const cards = await page.$$eval("section.actions a.card", (all) => all.map((a) => ({ href: a.getAttribute("href"), said: a.querySelector("span")?.textContent?.trim() ?? "" })))
    for (const card of cards) expect(card.said.length).toBeGreaterThan(10)
    expect(await page.$$eval("nav a", (links) => links.map((a) => a.getAttribute("href")))).toEqual(
      expect.arrayContaining(["/dashboard", "/uploads", "/activities", "/review", "/catalogue", "/recalculations", "/exports", "/sites"]),
    )
    // The session is an HttpOnly cookie: scripts on the page cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("scopeline_session")
    const cookies = await page.context().cookies()
    const session = cookies.find((c) => c.name === "scopeline_session")
    expect(session?.httpOnly).toBe(true)
    expect(session?.sameSite).toBe("Lax")
    await page.close()
  })

  test("a wrong password shows a readable error and keeps the login filled in", async () => {
    const page = await signIn("viewer@demo.scopeline.dev", "nope")
    await page.waitForSelector(".alert.error")
    expect(await page.textContent(".alert.error")).toContain("The login or password is incorrect.")
    expect(await page.inputValue("input[name=login]")).toBe("viewer@demo.scopeline.dev")
    await page.close()
  })

  test("the sign-in page loads with no failed request, its icon included", async () => {
    const page = await browser.newPage()
    const failed: Array<string> = []
    page.on("response", (response) => void (response.status() >= 400 && failed.push(`${response.status()} ${response.url()}`)))
    await page.goto(`${server.url}/login`)
    await page.waitForLoadState("networkidle")
    expect(failed).toEqual([])
    // Named by the page (headless Chromium asks for no icon on its own; a browser would ask /favicon.ico, a 404).
    const href = await page.$eval("link[rel=icon]", (link) => (link as HTMLLinkElement).href)
    const icon = await fetch(href)
    expect([icon.status, icon.headers.get("content-type")]).toEqual([200, "image/svg+xml"])
    await page.close()
  })

  test("a deep link opened signed out lands on its page after signing in", async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/sites?limit=10`)
    await page.waitForSelector("#login-form")
    expect(new URL(page.url()).searchParams.get("next")).toBe("/sites?limit=10")
    await page.fill("input[name=login]", "viewer@demo.scopeline.dev")
    await page.fill("input[name=password]", DEMO_TEST_PASSWORD)
    await page.click("button[type=submit]")
    await page.waitForURL((url) => url.pathname === "/sites")
    expect(new URL(page.url()).search).toBe("?limit=10")
    await page.close()
  })

  test("signing out ends the session", async () => {
    const page = await signIn("viewer@demo.scopeline.dev")
    await page.waitForSelector("#announcement")
    await page.click("form.logout button")
    await page.waitForSelector("#login-form")
    await page.goto(`${server.url}/`)
    await page.waitForSelector("#login-form")
    expect(new URL(page.url()).pathname).toBe("/login")
    await page.close()
  })

  test("a form posted without the page's CSRF token is refused", async () => {
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: "scopeline_csrf=" + "a".repeat(43) },
      body: new URLSearchParams({ login: "viewer@demo.scopeline.dev", password: DEMO_TEST_PASSWORD, _csrf: "b".repeat(43) }),
      redirect: "manual",
    })
    expect(response.status).toBe(403)
    expect(response.headers.get("set-cookie") ?? "").not.toContain("scopeline_session=ey")
    expect(await response.text()).toContain("This form has expired")
  })

  test("after sign-in, only paths on this site are followed (no open redirect)", async () => {
    const token = csrfTokenFor("")
    const signIn = (next: string) =>
      fetch(`${server.url}/login?next=${encodeURIComponent(next)}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `scopeline_csrf=${token}` },
        body: new URLSearchParams({ login: "accountant@demo.scopeline.dev", password: DEMO_TEST_PASSWORD, _csrf: token }),
        redirect: "manual",
      }).then((r) => r.headers.get("location"))
    expect(await signIn("/uploads")).toBe("/uploads")
    // Non-ASCII cannot go into a Location header raw: the path is followed, percent-encoded.
    expect(await signIn("/catalogue?q=café☕")).toBe("/catalogue?q=caf%C3%A9%E2%98%95")
    for (const hostile of ["//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example/", "/\n/evil.example"]) {
      expect(await signIn(hostile)).toBe("/")
    }
  })

  test("user data is escaped in pages", async () => {
    const hostile = `"><script>window.__pwned = true</script><b id="injected">x</b>`
    const page = await browser.newPage()
    await page.goto(`${server.url}/login`)
    // Skip the browser's own email check: the server must cope with whatever is posted.
    await page.evaluate(() => document.querySelector("form#login-form")?.setAttribute("novalidate", ""))
    await page.fill("input[name=login]", hostile)
    await page.fill("input[name=password]", "wrong")
    await page.click("button[type=submit]")
    await page.waitForSelector(".alert.error")
    expect(await page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined()
    expect(await page.$("#injected")).toBeNull()
    expect(await page.inputValue("input[name=login]")).toBe(hostile)
    await page.close()
  })
})
