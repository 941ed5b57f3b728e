import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { apiClient, type ApiClient, type UploadTarget } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

// The server alone, no worker: every parse job a notify enqueues stays in the outbox, countable.
let server: TestServer
let accountant: ApiClient
let db: SQL

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  db = new SQL(server.databaseUrl)
})
afterAll(async () => {
  await db.close()
  await server.stop()
})

const parseJobsFor = async (uploadId: string) => {
  const [row] = await db`
    SELECT (SELECT count(*)::int FROM outbox WHERE queue = 'parse' AND body LIKE ${`%${uploadId}%`}) +
           (SELECT count(*)::int FROM queue_messages WHERE queue = 'parse' AND body LIKE ${`%${uploadId}%`}) AS jobs`
  return row.jobs as number
}

describe("a repeated notify enqueues nothing", () => {
  test("five notifies, sequential and concurrent, by id and by URL, enqueue exactly one parse job", async () => {
    const target = (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget
    await fetch(target.url, { method: "PUT", headers: target.headers, body: "description,quantity,unit,date\nDiesel,1,L,2024-01-01\n" })
    expect((await accountant.post("/v1/upload", { upload_id: target.upload_id })).status).toBe(204)
    expect((await accountant.post("/v1/upload", { presigned_url: target.url })).status).toBe(204)
    const concurrent = await Promise.all([1, 2, 3].map(() => accountant.post("/v1/upload", { upload_id: target.upload_id })))
    expect(concurrent.map((r) => r.status)).toEqual([204, 204, 204])
    expect(await parseJobsFor(target.upload_id)).toBe(1)
  })
})
