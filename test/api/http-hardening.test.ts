import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { apiClient, type ApiClient } from "../support/api.ts"
import { DEMO_TEST_PASSWORD, seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { makeFetch } from "@scopeline/server/app"
import { visibleText } from "../support/pages.ts"

let server: TestServer
let viewer: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
})
afterAll(() => server.stop())

/** A browser's session on the pages, signed in through the login form: its cookies and its CSRF token. */
const pageSession = async (email: string) => {
  const signIn = await fetch(`${server.url}/login`)
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await signIn.text())![1]!
  const csrfCookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
  const login = await fetch(`${server.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: csrfCookie },
    body: new URLSearchParams({ _csrf: csrf, login: email, password: DEMO_TEST_PASSWORD }),
  })
  const session = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
  // Signed in, a page issues the token bound to the new session, which a form's post must echo.
  const account = await fetch(`${server.url}/account`, { headers: { cookie: `${csrfCookie}; ${session}` } })
  const bound = account.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ")
  const token = /name="_csrf" value="([^"]+)"/.exec(await account.text())![1]!
  return { cookie: `${bound || csrfCookie}; ${session}`, csrf: token, login }
}

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
    const { cookie, login } = await pageSession("viewer@demo.scopeline.dev")
    expect(login.status).toBe(303)
    expectSecurityHeaders(login)
    const page = await fetch(`${server.url}/activities`, { headers: { cookie } })
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

/** The raw response's JSON error code, or a note of what came instead (Bun's own answers have no body). */
const errorCodeOf = (body: string): string => {
  try {
    return (JSON.parse(body) as { error: { code: string } }).error.code
  } catch {
    return `not JSON: ${JSON.stringify(body.slice(0, 80))}`
  }
}

describe("413 from the server or the blob endpoint carries the JSON error body", () => {
  test("a declared body over 1 MiB is refused before routing, even on a route that reads no body", async () => {
    const response = await rawRequest(
      server.port,
      `POST /v1/auth/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\nConnection: close\r\n\r\n{}`,
    )
    expect(response.status).toBe(413)
    expect(errorCodeOf(response.body)).toBe("payload_too_large")
    // The same details as a streamed body that passes the limit: what the limit is.
    expect(JSON.parse(response.body).error.details).toEqual({ max_bytes: 1024 * 1024 })
    expect(response.headers).toContain("content-security-policy")
  })

  test("a page form over 1 MiB is a readable 413 page", async () => {
    const response = await rawRequest(
      server.port,
      `POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${2 * 1024 * 1024}\r\nConnection: close\r\n\r\nlogin=x`,
    )
    expect(response.status).toBe(413)
    expect(response.headers).toContain("text/html")
  })

  test("a 5 GB declared upload to a signed blob URL is our JSON 413, not Bun's empty one", async () => {
    const accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const target = (await (await accountant.get("/v1/upload/new?filename=big.csv")).json()) as { url: string }
    const url = new URL(target.url)
    const response = await rawRequest(
      server.port,
      `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000000000\r\nConnection: close\r\n\r\nactivity`,
    )
    expect(response.status).toBe(413)
    expect(errorCodeOf(response.body)).toBe("payload_too_large")
  })

  test("a chunked JSON body past 1 MiB is cut off with a JSON 413", async () => {
    const chunk = "a".repeat(256 * 1024)
    const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("")
    const response = await rawRequest(
      server.port,
      `POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    )
    expect(response.status).toBe(413)
    expect(errorCodeOf(response.body)).toBe("payload_too_large")
  })
})

describe("the blob endpoint answers errors in JSON, like /v1", () => {
  test("a Host header that is not a host on /blobs/ is a JSON bad_request", async () => {
    const response = await rawRequest(server.port, `PUT /blobs/uploads/x.csv HTTP/1.1\r\nHost: a b\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx`)
    expect(response.status).toBe(400)
    expect(errorCodeOf(response.body)).toBe("bad_request")
  })

  test("a NUL in a blob URL is a JSON bad_request", async () => {
    const response = await fetch(`${server.url}/blobs/uploads/x%00.csv`, { method: "PUT", body: "x" })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("bad_request")
  })
})

describe("an error that escapes the app is a JSON 500, not Bun's plain text", () => {
  test("the fetch handler answers it in our shape, with the security headers, and logs it", async () => {
    const logged: Array<unknown> = []
    const throwing = makeFetch({ handle: () => Promise.reject(new Error("planted")) }, { trustProxy: false, logDefect: (e) => logged.push(e) })
    const bare = Bun.serve({ port: 0, development: false, fetch: throwing })
    try {
      const api = await fetch(`http://127.0.0.1:${bare.port}/v1/me`)
      expect(api.status).toBe(500)
      expect(((await api.json()) as { error: { code: string } }).error.code).toBe("internal_error")
      expect(api.headers.get("content-security-policy")).toBe(CSP)
      const page = await fetch(`http://127.0.0.1:${bare.port}/uploads`)
      expect(page.status).toBe(500)
      expect(page.headers.get("content-type")).toContain("text/html")
      expect(logged).toHaveLength(2)
    } finally {
      await bare.stop(true)
    }
  })
})

/**
 * What Bun's HTTP parser answers before any of our code runs (docs/security.md, "Answers Bun gives
 * itself"). These tests pin the behaviour the documentation describes, so a Bun upgrade that changes
 * it is noticed, and they prove the limit below which our own JSON answers apply.
 */
describe("Bun's own answers, documented because no user code sees them", () => {
  test("headers up to 12 KiB reach our code and get our JSON errors", async () => {
    const response = await rawRequest(
      server.port,
      `GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"a".repeat(12 * 1024)}\r\nConnection: close\r\n\r\n`,
    )
    expect(response.status).toBe(401)
    expect(errorCodeOf(response.body)).toBe("unauthorized")
  })

  test("headers over 16 KiB are Bun's 431 with no body", async () => {
    const response = await rawRequest(
      server.port,
      `GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${"a".repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`,
    )
    expect(response.status).toBe(431)
    expect(response.body).toBe("")
  })

  for (const [name, request] of [
    ["a request line that is not HTTP", "GARBAGE\r\n\r\n"],
    ["a header name with a space", "GET /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\nConnection: close\r\n\r\n"],
    ["both Content-Length and Transfer-Encoding", "POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"],
    ["a Content-Length that is not a number", "POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n"],
    ["no Host header in HTTP/1.1", "GET /v1/me HTTP/1.1\r\nConnection: close\r\n\r\n"],
  ] as const) {
    test(`${name} is Bun's 400 with no body`, async () => {
      const response = await rawRequest(server.port, request)
      expect(response.status).toBe(400)
      expect(response.body).toBe("")
    })
  }
})

describe("a page asked with a query it refuses says which parameter and why", () => {
  const refused: ReadonlyArray<readonly [string, string]> = [
    ["/activities?status=bogus", "status"],
    ["/catalogue?q=" + "x".repeat(201), "q"],
    ["/uploads?limit=ten", "limit"],
    ["/recalculations?offset=-1", "offset"],
    ["/dashboard?from=2026-02-30", "from"],
    ["/admin/audit?category=gossip", "category"],
  ]
  for (const [path, parameter] of refused) {
    test(`${path.slice(0, 40)} is a 400 page naming ${parameter}`, async () => {
      const { cookie } = await pageSession("admin@demo.scopeline.dev")
      const response = await fetch(`${server.url}${path}`, { headers: { cookie } })
      expect(response.status).toBe(400)
      const text = visibleText(await response.text())
      expect(text).toMatch(new RegExp(`\\b${parameter}:? (must|is|contains|does)\\b`))
      expect(text).not.toMatch(/Expected|readonly|at .*\.ts:\d+/)
    })
  }
})

describe("a refusal says each problem once, in words rather than the schema's", () => {
  test("a period bound that is neither a date nor a month is named once, with the fuller rule", async () => {
    const { cookie } = await pageSession("admin@demo.scopeline.dev")
    const text = visibleText(await (await fetch(`${server.url}/dashboard?from=2024-13`, { headers: { cookie } })).text())
    expect(text).toContain("from must be a date as YYYY-MM-DD or a month as YYYY-MM")
    expect(text.split("from must").length - 1).toBe(1)
  })

  test("a malformed id and an empty list say what they must be", async () => {
    const admin = await apiClient(server.url, "admin@demo.scopeline.dev")
    const id = (await (await admin.get("/v1/activities?upload_id=x")).json()) as { error: { details: Array<{ path: string; message: string }> } }
    expect(id.error.details).toEqual([{ path: "upload_id", message: expect.stringMatching(/^must be a UUID/) }])
    const events = (await (await admin.post("/v1/admin/webhooks", { url: "http://127.0.0.1:9/x", events: [] })).json()) as { error: { details: Array<{ path: string; message: string }> } }
    expect(events.error.details).toEqual([{ path: "events", message: "must have at least one item" }])
  })
})

describe("the account form refused keeps what was typed", () => {
  test("a last name over 100 characters is named, and both names are shown again as typed", async () => {
    const { cookie, csrf } = await pageSession("accountant@demo.scopeline.dev")
    const response = await fetch(`${server.url}/account`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie, "x-csrf-token": csrf },
      body: new URLSearchParams({ firstname: "Ngozi", lastname: "L".repeat(101), timezone: "Europe/Lisbon", time_format: "12" }),
    })
    expect(response.status).toBe(400)
    const html = await response.text()
    expect(visibleText(html)).toContain("lastname")
    expect(html).toContain('name="firstname" autocomplete="given-name" maxlength="100" value="Ngozi"')
    expect(html).toContain(`value="${"L".repeat(101)}"`)
    expect(html).toMatch(/<option value="Europe\/Lisbon" selected/)
    expect(html).toMatch(/<option value="12" selected/)
  })
})
