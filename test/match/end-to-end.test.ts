import { LoggingLive } from "@scopeline/settings/Logging"
import { ParseJob, encodeJob } from "@scopeline/uploads/Jobs"
import { WorkerLive } from "@scopeline/worker/WorkerLayer"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { Effect, Exit, Layer, Scope } from "effect"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { configLayer, testSettings } from "../support/config.ts"
import { catalogueDatabase, matcherStats, startTestMatcher, theCatalogue } from "./support.ts"
import type { RunningMatcher } from "@scopeline/matcher/server"

const sample = readFileSync(join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv"), "utf8")

let matcher: RunningMatcher
let settings: Record<string, string>
let db: SQL
const scope = Effect.runSync(Scope.make())

beforeAll(async () => {
  const [databaseUrl] = await Promise.all([catalogueDatabase(), theCatalogue()])
  matcher = await startTestMatcher({ latencyMs: 20 })
  settings = testSettings({ DATABASE_URL: databaseUrl, MATCHER_URL: matcher.url, LOG_LEVEL: "Error" })
  // The real worker process's layer: PostgreSQL queue, outbox relay, parse and match consumers.
  await Effect.runPromise(
    Layer.buildWithScope(WorkerLive.pipe(Layer.provide(LoggingLive), Layer.provide(configLayer(settings))), scope),
  )
  db = new SQL(databaseUrl)
}, 120_000)
afterAll(async () => {
  await db.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  await matcher.stop()
})

describe("upload → calculated through the worker", () => {
  test("a stored file with a parse job in the outbox ends with every activity calculated", async () => {
    const uploadId = crypto.randomUUID()
    const key = `uploads/${uploadId}.csv`
    mkdirSync(join(settings.DATA_DIR!, "blobs", "uploads"), { recursive: true })
    writeFileSync(join(settings.DATA_DIR!, "blobs", key), sample)
    const [user] = await db`INSERT INTO users (email, role) VALUES (${`e2e-${uploadId}@example.com`}, 'accountant') RETURNING id`
    await db.begin(async (tx) => {
      await tx`INSERT INTO uploads (id, accountant, s3_object_url, status, size_bytes, uploaded_at)
               VALUES (${uploadId}, ${user.id}, ${key}, 'uploaded', ${sample.length}, now())`
      await tx`INSERT INTO outbox (queue, body) VALUES ('parse', ${encodeJob(new ParseJob({ uploadId, correlationId: "e2e" }))})`
      await tx`SELECT pg_notify('scopeline_outbox', 'parse')`
    })

    const rows = sample.trim().split("\n").length - 1
    const deadline = Date.now() + 30_000
    let counts: Record<string, number> = {}
    while (Date.now() < deadline) {
      const result: Array<{ status: string; n: number }> =
        await db`SELECT status::text AS status, count(*)::int AS n FROM activities WHERE upload_id = ${uploadId} GROUP BY 1`
      counts = Object.fromEntries(result.map((r) => [r.status, r.n]))
      if (counts.calculated === rows) break
      await Bun.sleep(100)
    }
    expect(counts).toEqual({ calculated: rows })
    const [upload] = await db`SELECT status::text AS status FROM uploads WHERE id = ${uploadId}`
    expect(upload.status).toBe("parsed")
    const [check] = await db`
      SELECT count(*) FILTER (WHERE emissions > 0 AND emissions_unit = 'kg CO2e' AND match_source = 'ai')::int AS priced
      FROM activities WHERE upload_id = ${uploadId}`
    expect(check.priced).toBe(rows)
    // One matcher call per distinct key, not per row.
    const [keys] = await db`SELECT count(DISTINCT match_key)::int AS n FROM activities WHERE upload_id = ${uploadId}`
    expect((await matcherStats(matcher)).requests).toBe(keys.n)
  }, 60_000)
})
