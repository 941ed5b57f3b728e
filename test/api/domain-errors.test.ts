import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { UploadNotFound, UploadNotYetStored } from "@scopeline/uploads"
import { TokenUnreadable } from "@scopeline/accounts"
import { apiClient, type ApiClient, type UploadTarget } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

let server: TestServer
let accountant: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
})
afterAll(() => server.stop())

describe("domain errors carry their status and code, mapped in one place", () => {
  test("each names its domain and knows its HTTP status and code", () => {
    expect(new UploadNotFound({ message: "x" })).toMatchObject({ _tag: "UploadNotFound", status: 404, code: "not_found" })
    expect(new UploadNotYetStored({ message: "x" })).toMatchObject({ _tag: "UploadNotYetStored", status: 409, code: "conflict" })
    expect(new TokenUnreadable({ message: "x" })).toMatchObject({ status: 400, code: "bad_request", endsSession: true })
  })

  test("the API answers an upload's domain errors with their status and code", async () => {
    const unknown = await accountant.post("/v1/upload", { upload_id: crypto.randomUUID() })
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found")
    const target = (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget
    const early = await accountant.post("/v1/upload", { upload_id: target.upload_id })
    expect(early.status).toBe(409)
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("conflict")
  })

  test("a page with an unreadable session cookie sends the browser to sign in and clears the cookie", async () => {
    const response = await fetch(`${server.url}/uploads`, { headers: { cookie: "scopeline_session=not-a-jwt" }, redirect: "manual" })
    expect(response.status).toBe(303)
    expect(response.headers.get("location")).toBe("/login?next=%2Fuploads")
    expect(response.headers.get("set-cookie")).toContain("scopeline_session=;")
  })

  test("a page whose upload does not exist is a readable 404 page", async () => {
    const response = await fetch(`${server.url}/uploads/${crypto.randomUUID()}`, { headers: { cookie: `scopeline_session=${accountant.jwt}` } })
    expect(response.status).toBe(404)
    expect(await response.text()).toContain("There is no such upload.")
  })
})
