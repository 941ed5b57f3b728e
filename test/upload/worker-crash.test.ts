import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SQL } from "bun"
import { apiClient, settledUpload, uploadFile } from "../support/api.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"

/**
 * Crash safety, proven with a real process: the worker is killed with SIGKILL in the middle of a
 * parse; after redelivery the upload has exactly one activity per row — none lost, none doubled.
 */
let server: TestServer
let db: SQL
const ROWS = 150_000

const spawnWorker = () =>
  Bun.spawn(["bun", "apps/worker/src/main.ts"], {
    cwd: `${import.meta.dir}/../..`,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      ...server.settings,
      PARSE_CONCURRENCY: "1",
      PARSE_VISIBILITY_TIMEOUT_SECONDS: "3",
      LOG_LEVEL: "Warn",
    },
    stdout: "ignore",
    stderr: "inherit",
  })

beforeAll(async () => {
  server = await startServer()
  await seedDemo(server.databaseUrl)
  db = new SQL(server.databaseUrl)
})
afterAll(async () => {
  await db.close()
  await server.stop()
})

describe("a worker killed mid-parse", () => {
  test("redelivery re-parses to exactly the same result", async () => {
    const api = await apiClient(server.url, "accountant@demo.scopeline.dev")
    const lines = Array.from({ length: ROWS }, (_, i) => `Site ${i % 500} electricity,${(i % 997) + 1}.5,kWh,2024-01-${String((i % 28) + 1).padStart(2, "0")},SG,REF-${i}`)
    const id = await uploadFile(api, `description,quantity,unit,date,geography,reference\n${lines.join("\n")}\n`)

    const sizeOfActivities = async () => Number((await db`SELECT pg_relation_size('activities')::bigint AS n`)[0].n)
    const emptySize = await sizeOfActivities()
    const first = spawnWorker()
    let parsing = false
    try {
      // Wait until the parse is under way and has written rows inside its uncommitted transaction
      // (uncommitted rows already take space in the table's pages).
      const deadline = Date.now() + 30_000
      while (Date.now() < deadline) {
        const [row] = await db`SELECT status::text AS status FROM uploads WHERE id = ${id}`
        if (row.status === "parsing" && (await sizeOfActivities()) > emptySize) {
          parsing = true
          break
        }
        await Bun.sleep(20)
      }
    } finally {
      first.kill("SIGKILL")
      await first.exited
    }
    expect(parsing).toBe(true)

    // Nothing of the interrupted attempt is visible: its transaction never committed.
    const [{ visible }] = await db`SELECT count(*)::int AS visible FROM activities WHERE upload_id = ${id}`
    expect(Number(visible)).toBe(0)

    const second = spawnWorker()
    try {
      const view = await settledUpload(api, id, 60_000)
      expect(view.status).toBe("parsed")
      expect(view.row_count).toBe(ROWS)
      const [counts] = await db`SELECT count(*)::int AS rows, count(DISTINCT row_number)::int AS distinct_rows,
                                       min(row_number) AS first, max(row_number) AS last
                                FROM activities WHERE upload_id = ${id}`
      expect(counts).toEqual({ rows: ROWS, distinct_rows: ROWS, first: 2, last: ROWS + 1 })
      const [upload] = await db`SELECT parse_attempts FROM uploads WHERE id = ${id}`
      expect(upload.parse_attempts).toBe(2)
    } finally {
      second.kill("SIGTERM")
      await second.exited
    }
  }, 120_000)
})
