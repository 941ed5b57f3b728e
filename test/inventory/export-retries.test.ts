import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import { writeFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { apiClient, type ApiClient } from "../support/api.ts"
import { testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"

/** An export whose file cannot be stored: a file where the store's `exports/` folder should be. */
let server: TestServer
let worker: TestWorker
let sql: SQL
let api: ApiClient

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  sql = testSql(server.databaseUrl)
  mkdirSync(join(server.settings.DATA_DIR!, "blobs"), { recursive: true })
  writeFileSync(join(server.settings.DATA_DIR!, "blobs", "exports"), "not a folder")
  worker = await startWorker(server.settings)
  api = await apiClient(server.url, "accountant@demo.scopeline.dev")
})
afterAll(async () => {
  await worker?.stop()
  await sql?.close()
  await server?.stop()
})

describe("a failing export", () => {
  test("is tried three times, 10 seconds apart, then marked failed, recorded as dead-lettered in the audit log, and dead-lettered on the export queue", async () => {
    const response = await api.post("/v1/exports", { format: "csv", kind: "activities" })
    expect(response.status).toBe(202)
    const { export: created } = (await response.json()) as { export: { id: string } }
    const deadline = Date.now() + 45_000
    let view: { status: string; failure_reason?: string } = { status: "queued" }
    while (Date.now() < deadline && view.status !== "failed") {
      await Bun.sleep(250)
      view = (await (await api.get(`/v1/exports/${created.id}`)).json()) as typeof view
    }
    expect(view.status).toBe("failed")
    expect(view.failure_reason).toContain("after three attempts")
    const [row] = (await sql`SELECT attempts, extract(epoch FROM finished_at - created_at)::float AS took FROM exports WHERE id = ${created.id}`) as Array<{ attempts: number; took: number }>
    expect(row!.attempts).toBe(3)
    // Two fixed 10-second delays between the three attempts (not the pipeline's 2 s, 4 s backoff).
    expect(row!.took).toBeGreaterThanOrEqual(19)
    // The failure is in the audit log once, with the storage error, and committed with the failed status.
    const events = await sql`SELECT action, category, actor_service, outcome_status, outcome_message, details FROM audit_events
                             WHERE object_type = 'export' AND object_id = ${created.id} AND action <> 'export_requested' ORDER BY seq`
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ action: "job_dead_lettered", category: "system", actor_service: "export-worker", outcome_status: "failure" })
    expect(events[0].outcome_message).toMatch(/not a directory|ENOTDIR|EEXIST|exists/i)
    expect(events[0].details).toMatchObject({ queue: "export", attempts: 3 })
    // The dead letter appears the next time the message would have been delivered.
    const admin = await apiClient(server.url, "admin@demo.scopeline.dev")
    const letters = async () =>
      ((await (await admin.get("/v1/admin/dead-letters")).json()) as { dead_letters: Array<{ queue: string; body: string }> }).dead_letters
    const until = Date.now() + 20_000
    while (Date.now() < until && !(await letters()).some((l) => l.queue === "export")) await Bun.sleep(500)
    const dead = (await letters()).find((l) => l.queue === "export")
    expect((JSON.parse(dead!.body) as { exportId: string }).exportId).toBe(created.id)
  }, 90_000)
})
