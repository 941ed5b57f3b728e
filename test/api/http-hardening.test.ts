import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { apiClient, type ApiClient } from "../support/api.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let viewer: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
})
afterAll(() => server.stop())

/** A request written byte by byte, so nothing between the test and the server fixes the Host header. */
const rawRequest = (port: number, request: string) =>
  new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
    let received = ""
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (socket) => void socket.write(request),
        data: (_socket, chunk) => void (received += chunk.toString()),
        close: () => {
          const [head = "", body = ""] = received.split("\r\n\r\n", 2)
          resolve({ status: Number(head.split(" ")[1]), headers: head.toLowerCase(), body })
        },
        error: (_socket, error) => reject(error),
      },
    }).catch(reject)
  })

describe("a Host header that is not a host is a 400, never a stack trace", () => {
  for (const host of ["127.0.0.1:abc", "a b"]) {
    test(`Host: ${host} on /v1 is a JSON bad_request`, async () => {
      const response = await rawRequest(server.port, `GET /v1/me HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      expect(response.status).toBe(400)
      const body = JSON.parse(response.body) as { error: { code: string; message: string } }
      expect(body.error.code).toBe("bad_request")
      expect(body.error.message).toContain("Host")
    })

    test(`Host: ${host} on a page is a plain 400 page`, async () => {
      const response = await rawRequest(server.port, `GET /uploads HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
      expect(response.status).toBe(400)
      expect(response.headers).toContain("text/html")
      expect(response.body).not.toMatch(/at .*\.ts:\d+|stack/i)
    })

    test(`fetch with Host: ${host} is a 400 too`, async () => {
      const response = await fetch(`${server.url}/v1/system/essentials`, { headers: { host } })
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("bad_request")
    })
  }
})

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

const expectSecurityHeaders = (response: Response) => {
  expect(response.headers.get("content-security-policy")).toBe(CSP)
  expect(response.headers.get("x-content-type-options")).toBe("nosniff")
  expect(response.headers.get("referrer-policy")).toBe("same-origin")
}

describe("every response carries the security headers", () => {
  test("the API, signed in, is never cached", async () => {
    const response = await viewer.get("/v1/me")
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    expect(response.headers.get("cache-control")).toBe("no-store")
  })

  test("API errors, including Elysia's own 404, carry them", async () => {
    for (const path of ["/v1/me", "/v1/nothing-here", "/nothing-here"]) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status).toBeGreaterThanOrEqual(400)
      expectSecurityHeaders(response)
      expect(response.headers.get("cache-control")).toBe("no-store")
    }
  })

  test("a signed-in page is never cached", async () => {
    const signIn = await fetch(`${server.url}/login`)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await signIn.text())![1]!
    const csrfCookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
      body: new URLSearchParams({ _csrf: csrf, login: "viewer@demo.scopeline.dev", password: DEMO_TEST_PASSWORD }),
    })
    expect(login.status).toBe(303)
    expectSecurityHeaders(login)
    const session = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
    const page = await fetch(`${server.url}/activities`, { headers: { cookie: `${csrfCookie}; ${session}` } })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expectSecurityHeaders(page)
    expect(page.headers.get("cache-control")).toBe("no-store")
  })

  test("static assets keep their own caching", async () => {
    const response = await fetch(`${server.url}/static/app.js`)
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    expect(response.headers.get("cache-control")).toBe("public, max-age=3600")
  })

  test("Strict-Transport-Security only when the request came over HTTPS", async () => {
    expect((await fetch(`${server.url}/healthz`)).headers.get("strict-transport-security")).toBeNull()
    const https = await fetch(`${server.url}/healthz`, { headers: { "x-forwarded-proto": "https" } })
    expect(https.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/)
  })
})
