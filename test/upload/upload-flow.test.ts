import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { apiClient, type ApiClient, settledUpload, uploadFile, type UploadTarget } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"
import { SQL } from "bun"

let server: TestServer
let worker: TestWorker
let accountant: ApiClient
let viewer: ApiClient
let db: SQL

const sample = readFileSync(join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv"), "utf8")

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  viewer = await apiClient(server.url, "viewer@demo.scopeline.dev")
  db = new SQL(server.databaseUrl)
})
afterAll(async () => {
  await db.close()
  await worker.stop()
  await server.stop()
})

const activityCount = async (uploadId: string) =>
  Number((await db`SELECT count(*)::int AS n FROM activities WHERE upload_id = ${uploadId}`)[0].n)

describe("upload → parsed, through the real server, worker and PostgreSQL", () => {
  test("the sample file is parsed into one activity per row", async () => {
    const id = await uploadFile(accountant, sample, "supermarket.csv")
    const view = await settledUpload(accountant, id)
    const rows = sample.trim().split("\n").length - 1
    expect(view.status).toBe("parsed")
    expect(view.row_count).toBe(rows)
    expect(await activityCount(id)).toBe(rows)
    const [first] = await db`SELECT raw_description, raw_volume::text AS q, raw_unit, activity_date::text AS d, geography, reference
                             FROM activities WHERE upload_id = ${id} ORDER BY row_number LIMIT 1`
    expect(first).toEqual({ raw_description: "Store electricity - Tampines outlet", q: "41250", raw_unit: "kWh", d: "2024-01-31", geography: "SG", reference: "SP-INV-24-0113" })
  })

  test("GET /v1/upload/new answers the seed's fields", async () => {
    const response = await accountant.get("/v1/upload/new")
    expect(response.status).toBe(200)
    const target = (await response.json()) as UploadTarget
    expect(Object.keys(target).sort()).toEqual(["expires_at", "headers", "max_bytes", "method", "upload_id", "url"])
    expect(target.method).toBe("PUT")
    expect(new Date(target.expires_at).getTime()).toBeGreaterThan(Date.now())
  })

  test("notify is idempotent: repeats are no-ops, never a second parse", async () => {
    const id = await uploadFile(accountant, sample)
    await settledUpload(accountant, id)
    for (let i = 0; i < 3; i++) expect((await accountant.post("/v1/upload", { upload_id: id })).status).toBe(204)
    await Bun.sleep(300)
    const [row] = await db`SELECT parse_attempts, status::text AS status FROM uploads WHERE id = ${id}`
    expect(row).toEqual({ parse_attempts: 1, status: "parsed" })
    expect(await activityCount(id)).toBe(sample.trim().split("\n").length - 1)
  })

  test("notify by presigned URL works too", async () => {
    const target = (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget
    await fetch(target.url, { method: "PUT", headers: target.headers, body: sample })
    expect((await accountant.post("/v1/upload", { presigned_url: target.url })).status).toBe(204)
    expect((await settledUpload(accountant, target.upload_id)).status).toBe("parsed")
  })

  test("notify by a presigned URL on another host is 404, and the upload stays pending", async () => {
    const target = (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget
    await fetch(target.url, { method: "PUT", headers: target.headers, body: sample })
    const foreign = new URL(target.url)
    foreign.host = "evil.example"
    expect((await accountant.post("/v1/upload", { presigned_url: foreign.toString() })).status).toBe(404)
    // Both ways at once is refused, not answered by whichever the server reads first.
    const both = await accountant.post("/v1/upload", { upload_id: target.upload_id, presigned_url: foreign.toString() })
    expect(both.status).toBe(400)
    expect(JSON.stringify(await both.json())).toContain("not both")
    const [row] = await db`SELECT status::text AS status FROM uploads WHERE id = ${target.upload_id}`
    expect(row).toEqual({ status: "pending_upload" })
  })

  test("notify before the file arrived is 409 with a reason, and nothing is queued", async () => {
    const target = (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget
    const response = await accountant.post("/v1/upload", { upload_id: target.upload_id })
    expect(response.status).toBe(409)
    const body = (await response.json()) as { error: { code: string; message: string } }
    expect(body.error.code).toBe("conflict")
    expect(body.error.message).toContain("has not arrived")
    const [row] = await db`SELECT status::text AS status FROM uploads WHERE id = ${target.upload_id}`
    expect(row.status).toBe("pending_upload")
  })

  test("notify for an unknown upload is 404; a malformed body is 400", async () => {
    expect((await accountant.post("/v1/upload", { upload_id: crypto.randomUUID() })).status).toBe(404)
    expect((await accountant.post("/v1/upload", { nothing: true })).status).toBe(400)
  })

  test("another accountant cannot confirm an upload, and the refusal is recorded against them", async () => {
    const admin = await apiClient(server.url, "admin@demo.scopeline.dev")
    const email = `second-${crypto.randomUUID().slice(0, 6)}@example.com`
    const invited = (await (await admin.post("/v1/admin/invitations", { email, role: "accountant" })).json()) as { invitation: { accept_url: string } }
    const token = new URL(invited.invitation.accept_url).searchParams.get("token")!
    const password = "maple quartz river lamp"
    const accepted = await fetch(`${server.url}/v1/invitations/accept`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token, password }) })
    expect(accepted.status).toBeLessThan(300)
    const other = await apiClient(server.url, email, password)
    const target = (await (await accountant.get("/v1/upload/new?filename=mine.csv")).json()) as UploadTarget
    const refused = await other.post("/v1/upload", { upload_id: target.upload_id })
    expect(refused.status).toBe(403)
    const [event] = await db`SELECT object_id, details->>'reason' AS reason, actor_role FROM audit_events WHERE action = 'permission_denied' AND correlation_id = ${refused.headers.get("x-correlation-id")}`
    expect(event).toEqual({ object_id: target.upload_id, reason: "not the upload's owner", actor_role: "accountant" })
  })

  test("a viewer cannot upload: 403 on both steps, but can list uploads", async () => {
    expect((await viewer.get("/v1/upload/new")).status).toBe(403)
    expect((await viewer.post("/v1/upload", { upload_id: crypto.randomUUID() })).status).toBe(403)
    const list = await viewer.get("/v1/uploads?limit=5")
    expect(list.status).toBe(200)
    const body = (await list.json()) as { uploads: Array<{ status: string }>; total: number; limit: number }
    expect(body.limit).toBe(5)
    expect(body.total).toBeGreaterThan(0)
  })
})

describe("signed upload URLs", () => {
  const target = async () => (await (await accountant.get("/v1/upload/new")).json()) as UploadTarget

  test("a tampered URL is refused with 403 and nothing is stored", async () => {
    const t = await target()
    const url = new URL(t.url)
    url.searchParams.set("max", String(10 * t.max_bytes))
    const response = await fetch(url, { method: "PUT", body: "description,quantity,unit,date\n" })
    expect(response.status).toBe(403)
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain("not valid")
    expect((await accountant.post("/v1/upload", { upload_id: t.upload_id })).status).toBe(409)
  })

  test("an expired URL is refused with 403", async () => {
    const quick = await startServer({ UPLOAD_URL_TTL_SECONDS: "1", DATABASE_URL: server.databaseUrl })
    try {
      const api = await apiClient(quick.url, "accountant@demo.scopeline.dev")
      const t = (await (await api.get("/v1/upload/new")).json()) as UploadTarget
      await Bun.sleep(2100)
      const response = await fetch(t.url, { method: "PUT", body: sample })
      expect(response.status).toBe(403)
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain("expired")
    } finally {
      await quick.stop()
    }
  })

  test("an oversize file is refused with 413 and leaves nothing behind", async () => {
    const small = await startServer({ MAX_UPLOAD_BYTES: "1000", DATABASE_URL: server.databaseUrl })
    try {
      const api = await apiClient(small.url, "accountant@demo.scopeline.dev")
      const t = (await (await api.get("/v1/upload/new")).json()) as UploadTarget
      expect(t.max_bytes).toBe(1000)
      const big = "description,quantity,unit,date\n" + "Diesel,1,L,2024-01-01\n".repeat(200)
      const declared = await fetch(t.url, { method: "PUT", body: big })
      expect(declared.status).toBe(413)
      // A client that lies about the size (streamed, no Content-Length) is cut off too.
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 50; i++) controller.enqueue(new TextEncoder().encode(big.slice(0, 500)))
          controller.close()
        },
      })
      const streamed = await fetch(t.url, { method: "PUT", body: stream, duplex: "half" } as RequestInit)
      expect(streamed.status).toBe(413)
      expect((await api.post("/v1/upload", { upload_id: t.upload_id })).status).toBe(409)
    } finally {
      await small.stop()
    }
  })

  test("two uploads racing on one URL: exactly one is stored", async () => {
    const t = await target()
    const statuses = await Promise.all([1, 2].map(() => fetch(t.url, { method: "PUT", body: sample }).then((r) => r.status)))
    expect(statuses.sort()).toEqual([201, 409])
  })

  test("an empty upload is 400 and a malformed link is 403, never a server error", async () => {
    const t = await target()
    expect((await fetch(t.url, { method: "PUT", body: "" })).status).toBe(400)
    expect((await fetch(`${server.url}/blobs/uploads/%E0.csv`, { method: "PUT", body: "x" })).status).toBe(403)
  })

  test("a URL cannot be used twice", async () => {
    const t = await target()
    expect((await fetch(t.url, { method: "PUT", body: sample })).status).toBe(201)
    expect((await fetch(t.url, { method: "PUT", body: sample })).status).toBe(409)
  })
})
