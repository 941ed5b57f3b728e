import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { apiClient, type ApiClient } from "../support/api.ts"
import { insertActivities, insertUpload, testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let viewer: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
})
afterAll(() => server.stop())

const badRequest = async (response: Response) => {
  expect(response.status).toBe(400)
  const body = (await response.json()) as { error: { code: string; message: string } }
  expect(body.error.code).toBe("bad_request")
  return body
}

describe("numeric query parameters accept decimal digits only", () => {
  for (const path of ["/v1/activities", "/v1/uploads", "/v1/emission-factors"]) {
    for (const [name, value] of [["limit", "0x10"], ["limit", "1e1"], ["offset", "1e2"], ["offset", "+5"], ["limit", " 5"], ["limit", "5.0"]] as const) {
      test(`${path}?${name}=${value} is 400, not read as a number`, async () => {
        await badRequest(await viewer.get(`${path}?${name}=${encodeURIComponent(value)}`))
      })
    }
    test(`${path}?limit=5&offset=0 still works`, async () => {
      expect((await viewer.get(`${path}?limit=5&offset=0`)).status).toBe(200)
    })
  }
})

describe("NUL characters and oversized or deeply nested bodies are refused, never a 500", () => {
  const login = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })

  test("a NUL in the login is 400", async () => {
    await badRequest(await login(JSON.stringify({ credentials: { login: "viewer\u0000@demo.scopeline.dev", password: "x" } })))
  })

  for (const path of ["/v1/emission-factors?q=diesel%00", "/v1/emission-factors?scope=Scope%201%00", "/v1/activities?status=%00", "/v1/uploads/%00"]) {
    test(`${path} is 400`, async () => {
      await badRequest(await viewer.get(path))
    })
  }

  test("a NUL in a page address is a readable 400 page", async () => {
    const response = await fetch(`${server.url}/catalogue?q=%00`)
    expect(response.status).toBe(400)
    expect(response.headers.get("content-type")).toContain("text/html")
    expect(await response.text()).toContain("NUL character")
  })

  test("a NUL in the sign-in form is a 400 page, not a 500", async () => {
    const page = await fetch(`${server.url}/login`)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? ""
    const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams({ _csrf: csrf, login: "viewer\u0000@demo.scopeline.dev", password: "x" }),
    })
    expect(response.status).toBe(400)
  })

  test("JSON nested 400,000 levels deep is 400", async () => {
    await badRequest(await login(`{"credentials":${"[".repeat(400_000)}${"]".repeat(400_000)}}`))
  })

  test("a 2 MiB login body is 413 with a JSON error, refused by its declared length", async () => {
    const response = await login(JSON.stringify({ credentials: { login: "x".repeat(2 * 1024 * 1024), password: "x" } }))
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large")
  })

  test("a streamed body without a length is cut off at 1 MiB with a 413", async () => {
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 8 * 1024 * 1024) return controller.close()
        sent += 64 * 1024
        controller.enqueue(new Uint8Array(64 * 1024).fill(32))
      },
    })
    const response = await fetch(`${server.url}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body })
    expect(response.status).toBe(413)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("payload_too_large")
  })
})

describe("forged activity cursors are 400, never a database error", () => {
  const forge = (key: unknown) => Buffer.from(JSON.stringify(key), "utf8").toString("base64url")
  for (const [name, key] of [
    ["a time past bigint", ["9999999999999999999", "7f55b4ec-7cbe-4bfb-a09d-d7a78011b9f5", 3]],
    ["a row number past int", ["1796165027417631", "7f55b4ec-7cbe-4bfb-a09d-d7a78011b9f5", 3_000_000_000]],
    ["a negative row number", ["1796165027417631", "7f55b4ec-7cbe-4bfb-a09d-d7a78011b9f5", -1]],
  ] as const) {
    test(`${name}`, async () => {
      const body = await badRequest(await viewer.get(`/v1/activities?cursor=${forge(key)}`))
      expect(JSON.stringify(body)).toContain("is not a cursor this server issued")
    })
  }
})

describe("validation errors say what is wrong, once, and never echo the value", () => {
  test("a too-long password is refused without the password in the answer", async () => {
    const password = `secret-${"a".repeat(1100)}`
    const response = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: "viewer@demo.scopeline.dev", password } }),
    })
    const body = await badRequest(response)
    expect(JSON.stringify(body)).not.toContain("secret-")
  })

  test("an out-of-range optional parameter gets one problem, not a second 'Expected undefined'", async () => {
    const body = (await badRequest(await viewer.get("/v1/activities?limit=0"))) as unknown as { error: { details: Array<{ path: string; message: string }> } }
    expect(body.error.details).toEqual([{ path: "limit", message: expect.stringContaining("between 1 and") }])
  })
})

describe("original columns come back as the file named them", () => {
  test("a column named __proto__ is in the activity's extra data, like any other", async () => {
    const sql = testSql(server.databaseUrl)
    try {
      const upload = await insertUpload(sql, "accountant@demo.scopeline.dev")
      // JSON.parse makes "__proto__" an own property; an object literal would set the prototype instead.
      const extra = JSON.parse('{"Site":"North","__proto__":"p1"}') as Record<string, string>
      await insertActivities(sql, upload, [{ description: "Diesel", quantity: "1", unit: "L", date: "2024-01-01", extra }])
      const response = await viewer.get(`/v1/activities?upload_id=${upload}`)
      expect(response.status).toBe(200)
      const text = await response.text()
      expect(text).toContain('"extra":{"Site":"North","__proto__":"p1"}')
    } finally {
      await sql.close()
    }
  })
})
