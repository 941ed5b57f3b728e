import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { apiClient, type ApiClient } from "../support/api.ts"
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
