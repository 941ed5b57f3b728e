import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { apiClient, type ApiClient } from "../support/api.ts"
import { testCluster } from "../support/postgres.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let viewer: ApiClient
let cookie: string

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
  cookie = `scopeline_session=${viewer.jwt}`
  // The database goes away under the running server: its connections are cut and new ones refused.
  const name = new URL(server.databaseUrl).pathname.slice(1)
  const admin = new SQL((await testCluster()).url)
  await admin.unsafe(`DROP DATABASE "${name}" WITH (FORCE)`)
  await admin.close()
})
afterAll(() => server.stop())

describe("with the database down", () => {
  for (const path of ["/v1/uploads", "/v1/activities", "/v1/emission-factors?q=diesel", "/v1/me", "/v1/emissions/totals"]) {
    test(`GET ${path} answers 503 with a JSON error, not 500`, async () => {
      const response = await viewer.get(path)
      expect(response.status).toBe(503)
      const body = (await response.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe("service_unavailable")
      expect(response.headers.get("retry-after")).toBe("5")
    })
  }

  test("signing in answers 503", async () => {
    const response = await fetch(`${server.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ credentials: { login: "viewer@demo.scopeline.dev", password: "whatever-it-is" } }),
    })
    expect(response.status).toBe(503)
  })

  test("a page answers a readable 503 page", async () => {
    const response = await fetch(`${server.url}/uploads`, { headers: { cookie } })
    expect(response.status).toBe(503)
    expect(await response.text()).toContain("cannot reach its database")
  })

  test("/readyz says not ready", async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503)
  })
})
