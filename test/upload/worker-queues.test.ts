import { startMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { apiClient, settledUpload, uploadFile, type UploadView } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker } from "../support/worker.ts"

/** WORKER_QUEUES splits the worker: parsing can scale out while one process talks to the matcher. */
let server: TestServer
let matcher: Awaited<ReturnType<typeof startMatcher>>
const sample = readFileSync(join(import.meta.dir, "../../data/samples/supermarket-sg-2024-q1.csv"), "utf8")

beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
  server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url })
  await seedDemo(server.databaseUrl)
}, 60_000)
afterAll(async () => {
  await server?.stop()
  await matcher?.stop()
})

describe("WORKER_QUEUES", () => {
  test("a parse-only worker parses without matching; a match-only worker then matches", async () => {
    const api = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const parser = await startWorker({ ...server.settings, WORKER_QUEUES: "parse" })
    try {
      const id = await uploadFile(api, sample)
      const parsed = await settledUpload(api, id)
      expect(parsed.status).toBe("parsed")
      await Bun.sleep(1000)
      const waiting = (await (await api.get(`/v1/uploads/${id}`)).json()) as UploadView
      expect(waiting.activities).toMatchObject({ ingested: 16, calculated: 0 })
      expect(matcher.stats().requests).toBe(0)

      const matchWorker = await startWorker({ ...server.settings, WORKER_QUEUES: "match" })
      try {
        const deadline = Date.now() + 30_000
        let view = waiting
        while (Date.now() < deadline && (view.activities.calculated ?? 0) + (view.activities.failed ?? 0) < 16) {
          await Bun.sleep(100)
          view = (await (await api.get(`/v1/uploads/${id}`)).json()) as UploadView
        }
        expect(view.activities.calculated).toBe(16)
      } finally {
        await matchWorker.stop()
      }
    } finally {
      await parser.stop()
    }
  }, 90_000)
})
