import { startMatcher } from "@scopeline/matcher/server"
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { SQL } from "bun"
import fc from "fast-check"
import { resolve } from "node:path"
import { apiClient, type ApiClient, settledUpload, uploadFile } from "../support/api.ts"
import { writeDesnzFixture } from "../support/desnzFixture.ts"
import { testSql } from "../support/factories.ts"
import { seedDemo } from "../support/seed.ts"
import { startServer, type TestServer } from "../support/server.ts"
import { startWorker, type TestWorker } from "../support/worker.ts"
import { recount, recountReviewKeys, storedCells, storedReviewKeys } from "./totals.ts"

/**
 * The inventory's cells against a full recount after random sequences of what accountants do
 * through the real product: upload files (the parse's COPY, the match job's claim and pricing, cache
 * hits, failures), decide matches in the review queue (for a key or one row), and restate on
 * another factor set (the DESNZ 2024 TEST FIXTURE, test/support/desnzFixture.ts), with the real
 * worker and the reference matcher. The inventory API's total must also equal the activities' sum.
 */
const root = resolve(import.meta.dir, "../..")

let matcher: Awaited<ReturnType<typeof startMatcher>>
let server: TestServer
let worker: TestWorker
let sql: SQL
let accountant: ApiClient

// What a supermarket's files hold, including rows the reference matcher cannot place and rows
// below the review gate.
const LINES = [
  "Store electricity - Tampines outlet,41250,kWh,GB",
  "Diesel for delivery vans,3120,litres,GB",
  "Return flight Heathrow-Berlin eco,1200,passenger km,GB",
  "Hackney carriage journeys,40,passenger km,GB",
  "Petrol,80,litres,GB",
  "Natural gas,5000,kWh,GB",
  "Mains water,120,m3,GB",
  "Unobtainium polishing,3,kg,GB",
] as const
const CATEGORIES = ["", "electricity", "Business travel", "category 6", "fleet"] as const
const SITES = ["", "DEPOT", "store"] as const

const row = fc.record({
  line: fc.constantFrom(...LINES),
  month: fc.integer({ min: 1, max: 12 }),
  day: fc.integer({ min: 1, max: 28 }),
  category: fc.constantFrom(...CATEGORIES),
  site: fc.constantFrom(...SITES),
})

const command = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("upload" as const), rows: fc.array(row, { minLength: 1, maxLength: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("decide" as const),
      item: fc.nat(),
      candidate: fc.nat(),
      appliesTo: fc.constantFrom("key", "activity"),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("recalculate" as const), set: fc.constantFrom("DESNZ:2024", "DESNZ:2023") }) },
)
// Any days of 2024, in order: often inside months, sometimes whole ones.
const day = fc.integer({ min: 0, max: 365 }).map((n) => new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10))
const period = fc.tuple(day, day).map(([a, b]): readonly [string, string] => (a <= b ? [a, b] : [b, a]))
type Command = typeof command extends fc.Arbitrary<infer C> ? C : never

const until = async (what: string, done: () => Promise<boolean>) => {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (await done()) return
    await Bun.sleep(100)
  }
  throw new Error(`${what} did not finish`)
}

interface ReviewItem {
  readonly activity_id: string
  readonly candidates: ReadonlyArray<{ readonly factor: { readonly id: string } }>
}

const run = async (c: Command) => {
  switch (c.kind) {
    case "upload": {
      const file = ["description,quantity,unit,geography,date,category,site"]
      for (const r of c.rows) file.push(`${r.line},2024-${String(r.month).padStart(2, "0")}-${String(r.day).padStart(2, "0")},${r.category},${r.site}`)
      const id = await uploadFile(accountant, file.join("\n"))
      await settledUpload(accountant, id)
      await until(`matching upload ${id}`, async () => {
        const [left] = (await sql`SELECT count(*)::int AS n FROM activities WHERE upload_id = ${id} AND status IN ('ingested', 'matching')`) as Array<{ n: number }>
        return left!.n === 0
      })
      return
    }
    case "decide": {
      const { items } = (await (await accountant.get("/v1/review?limit=50")).json()) as { items: ReadonlyArray<ReviewItem> }
      const item = items[c.item % Math.max(items.length, 1)]
      if (!item) return
      const candidate = item.candidates[c.candidate % Math.max(item.candidates.length, 1)]
      const body = candidate ? { factor_id: candidate.factor.id, applies_to: c.appliesTo } : { accept: true, applies_to: c.appliesTo }
      const response = await accountant.post(`/v1/activities/${item.activity_id}/decision`, body)
      // A failed row without candidates has nothing to accept (409): that answer is the product's, not a fault.
      if (response.status !== 200 && response.status !== 409) throw new Error(`decision answered ${response.status}: ${await response.text()}`)
      return
    }
    case "recalculate": {
      const response = await accountant.post("/v1/recalculations", { factor_set: c.set })
      expect(response.status).toBe(202)
      const { recalculation } = (await response.json()) as { recalculation: { id: string } }
      await until(`recalculation ${recalculation.id}`, async () => {
        const body = (await (await accountant.get(`/v1/recalculations/${recalculation.id}`)).json()) as { recalculation: { status: string } }
        return body.recalculation.status === "done" || body.recalculation.status === "failed"
      })
      return
    }
  }
}

beforeAll(async () => {
  matcher = await startMatcher({ port: 0 })
  server = await startServer({ LOAD_CATALOGUE: "true", MATCHER_URL: matcher.url })
  await seedDemo(server.databaseUrl)
  worker = await startWorker(server.settings)
  sql = testSql(server.databaseUrl)
  accountant = await apiClient(server.url, "accountant@demo.scopeline.dev")
  await sql`INSERT INTO sites (code, name, country, limit_period) VALUES ('DEPOT', 'Depot', 'GB', 'month'), ('STORE', 'Store', 'GB', 'year')`
  const load = Bun.spawn(["bun", "scripts/catalogue-load.ts", writeDesnzFixture()], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATABASE_URL: server.databaseUrl, LOG_LEVEL: "Error" },
    stdout: "ignore",
    stderr: "inherit",
  })
  expect(await load.exited).toBe(0)
}, 120_000)
afterAll(async () => {
  await sql?.close()
  await worker?.stop()
  await server?.stop()
  await matcher?.stop()
})

describe("the inventory's cells in the running product", () => {
  test("equal a full recount after random uploads, decisions and recalculations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 2, maxLength: 5 }), period, async (commands, period) => {
        for (const c of commands) {
          await run(c)
          expect(await storedCells(sql)).toEqual(await recount(sql))
          expect(await storedReviewKeys(sql)).toEqual(await recountReviewKeys(sql))
        }
        // The whole tenant, and a period that starts and ends inside months (its edge days are read
        // from the activities, its whole months from the cells).
        for (const [from, to] of [[null, null], period] as const) {
          const query = from === null ? "" : `?from=${from}&to=${to}`
          const inventory = (await (await accountant.get(`/v1/inventory${query}`)).json()) as { total: number; coverage: { activities: number; calculated: number } }
          const [sum] = (await sql`
            SELECT round(coalesce(sum(a.emissions) FILTER (WHERE a.status = 'calculated' AND a.emissions IS NOT NULL AND f.id IS NOT NULL), 0), 3)::float8 AS total,
                   count(*)::int AS activities, count(*) FILTER (WHERE a.status = 'calculated')::int AS calculated
            FROM activities a LEFT JOIN emission_factors f ON f.id = a.matched_factor_id
            WHERE ${from === null ? sql`true` : sql`a.activity_date BETWEEN ${from}::date AND ${to}::date`}`) as Array<{ total: number; activities: number; calculated: number }>
          expect(inventory.total).toBe(sum!.total)
          expect(inventory.coverage.activities).toBe(sum!.activities)
          expect(inventory.coverage.calculated).toBe(sum!.calculated)
        }
      }),
      {
        numRuns: 5,
        // The first run (of the five) is this one, sure to reach everything checked below: a row the
        // matcher cannot place, rows naming sites, a decision and a restatement.
        examples: [
          [
            [
              {
                kind: "upload",
                rows: [
                  { line: LINES[7], month: 3, day: 14, category: "", site: "DEPOT" },
                  { line: LINES[0], month: 3, day: 1, category: "electricity", site: "store" },
                  { line: LINES[1], month: 4, day: 28, category: "fleet", site: "" },
                ],
              },
              { kind: "decide", item: 0, candidate: 0, appliesTo: "key" },
              { kind: "recalculate", set: "DESNZ:2024" },
            ],
            ["2024-03-02", "2024-04-27"],
          ],
        ],
      },
    )
    // The runs reached what they are meant to cover.
    const [seen] = (await sql`
      SELECT count(*) FILTER (WHERE match_source = 'manual')::int AS decided, count(*) FILTER (WHERE status = 'failed')::int AS failed,
             count(*) FILTER (WHERE site_id IS NOT NULL)::int AS sited,
             (SELECT count(*)::int FROM recalculations WHERE status = 'done') AS restated
      FROM activities`) as Array<{ decided: number; failed: number; sited: number; restated: number }>
    expect(seen!.failed).toBeGreaterThan(0)
    expect(seen!.sited).toBeGreaterThan(0)
    expect(seen!.decided + seen!.restated).toBeGreaterThan(0)
  }, 300_000)
})
