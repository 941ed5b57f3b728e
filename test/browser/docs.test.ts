import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Browser } from "playwright-core"
import { launchBrowser } from "../support/browser.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let browser: Browser

beforeAll(async () => {
  ;[server, browser] = await Promise.all([startServer(), launchBrowser()])
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await server?.stop()
})

describe("the API docs page", () => {
  test("/docs shows every operation of the OpenAPI document and breaks no rule of the Content-Security-Policy", async () => {
    const page = await browser.newPage()
    const violations: Array<string> = []
    page.on("console", (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text())
    })
    page.on("pageerror", (error) => violations.push(`page error: ${error.message}`))
    // Run by the browser itself, so not subject to the policy: it reports what the policy blocked.
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) =>
        console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`),
      )
    })
    const requests: Array<string> = []
    page.on("request", (request) => requests.push(request.url()))
    await page.goto(`${server.url}/docs`)
    await page.waitForSelector(".opblock", { timeout: 20_000 })
    const openapi = (await (await fetch(`${server.url}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }
    const operations = Object.values(openapi.paths).reduce((n, methods) => n + Object.keys(methods).length, 0)
    expect(await page.locator(".opblock").count()).toBe(operations)
    // Opening one operation renders its schemas too.
    await page.click("#operations-uploads-get_v1_uploads .opblock-summary")
    await page.waitForSelector("#operations-uploads-get_v1_uploads .parameters")
    expect(violations).toEqual([])
    // Everything came from our server: no CDN, no validator badge, no font service.
    expect(requests.filter((url) => !url.startsWith(server.url))).toEqual([])
    await page.close()
  }, 60_000)
})
