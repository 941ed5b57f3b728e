import { SqlClient } from "@effect/sql"
import { EmissionsRepo } from "@scopeline/activities/EmissionsRepo"
import { encodeJob } from "@scopeline/uploads/Jobs"
import { UploadId } from "@scopeline/uploads/Upload"
import { AiMatcherClient } from "@scopeline/matching/AiMatcherClient"
import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { Queue } from "@scopeline/queue/Queue"
import { MatchWorkerLive } from "@scopeline/matching/matchWorker"
import { afterEach, beforeAll, describe, expect, test } from "bun:test"
import { Effect, Either, Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import fc from "fast-check"
import { configLayer } from "../support/config.ts"
import { sqlLayer } from "../support/seed.ts"
import {
  activitiesOf,
  catalogueDatabase,
  createUpload,
  jobFor,
  matcherStats,
  matchLayer,
  scenario,
  startTestMatcher,
  statusCounts,
  theCatalogue,
  type ActivityInput,
  type Scenario,
} from "./support.ts"

const open: Array<{ dispose: () => Promise<void> }> = []
const start = async (...args: Parameters<typeof scenario>): Promise<Scenario> => {
  const s = await scenario(...args)
  open.push(s)
  return s
}
beforeAll(async () => {
  await Promise.all([catalogueDatabase(), theCatalogue()])
}, 120_000)
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.dispose()))
})

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 40_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

const ROWS: ReadonlyArray<ActivityInput> = [
  { description: "Store electricity - Tampines outlet", quantity: "1200.5", unit: "kWh", geography: "SG" },
  { description: "Store electricity - Tampines outlet", quantity: "2", unit: "MWh", geography: "SG" },
  { description: "Diesel for delivery vans", quantity: "40", unit: "litres", geography: "SG" },
  { description: "Diesel for delivery vans", quantity: "12", unit: "US gal", geography: "SG" },
  { description: "Natural gas for boilers", quantity: "500", unit: "kWh", geography: "GB" },
  { description: "Zqxv blorp", quantity: "3", unit: "litres" },
]
const OTHER_ROWS: ReadonlyArray<ActivityInput> = [
  { description: "Warehouse electricity - Jurong", quantity: "3.25", unit: "MWh", geography: "SG" },
  { description: "Diesel for delivery vans", quantity: "7", unit: "L", geography: "SG" },
]

describe("circuit breaker", () => {
  test("opens after K consecutive failures, fails fast while open, and closes once the matcher is back", async () => {
    const s = await start({}, { MATCHER_MAX_RETRIES: "0", MATCHER_BREAKER_THRESHOLD: "3", MATCHER_BREAKER_COOLDOWN_MS: "300" })
    const port = s.matcher.port
    await s.matcher.stop()
    const ask = (key: string) =>
      s.run(
        Effect.flatMap(AiMatcherClient, (client) =>
          client.match({ key, description: "store electricity", unit: "kWh", geography: "SG" }),
        ).pipe(Effect.either),
      )
    const state = () => s.run(Effect.flatMap(AiMatcherClient, (client) => client.breakerState))

    for (const key of ["a|kWh", "b|kWh", "c|kWh"]) {
      const outcome = await ask(key)
      expect(Either.isLeft(outcome) && outcome.left.breakerOpen).toBe(false)
    }
    expect((await state())._tag).toBe("Open")

    const started = performance.now()
    const fast = await ask("d|kWh")
    expect(performance.now() - started).toBeLessThan(50)
    expect(Either.isLeft(fast) && fast.left.breakerOpen).toBe(true)

    const back = await startTestMatcher({ port })
    open.push({ dispose: () => back.stop() })
    await Bun.sleep(350)
    const answered = await ask("e|kWh")
    expect(Either.isRight(answered) && answered.right.factorRef).toBe("Ember:2024:SGP")
    expect(await state()).toEqual({ _tag: "Closed", consecutiveFailures: 0 })
    // Opening and closing are system events, once each (not one per refused call).
    const events = await s.run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ action: string }>`SELECT action FROM audit_events WHERE category = 'system' ORDER BY seq`),
    )
    expect(events.map((event) => event.action)).toEqual(["matcher_circuit_opened", "matcher_circuit_closed"])
  }, 30_000)
})

describe("matcher outage through the queue", () => {
  test("a job whose matcher stays down dead-letters with the reason on its activities, and a replay calculates them", async () => {
    const databaseUrl = await catalogueDatabase()
    const matcher = await startTestMatcher()
    const port = matcher.port
    await matcher.stop()
    const settings = {
      MATCHER_URL: matcher.url,
      QUEUE_MAX_RECEIVES: "2",
      MATCHER_MAX_RETRIES: "1",
      MATCHER_RETRY_BASE_MS: "10",
      MATCHER_BREAKER_THRESHOLD: "3",
      MATCHER_BREAKER_COOLDOWN_MS: "200",
      MATCH_CONCURRENCY: "2",
    }
    // PgQueueLive reads QUEUE_MAX_RECEIVES too: both see the same settings.
    const queue = PgQueueLive.pipe(Layer.provide(sqlLayer(databaseUrl)), Layer.provide(configLayer(settings)))
    const services = Layer.mergeAll(matchLayer(databaseUrl, settings), queue)
    const runtime = ManagedRuntime.make(
      Layer.merge(MatchWorkerLive.pipe(Layer.provide(services)), services).pipe(
        Layer.provide(Logger.minimumLogLevel(LogLevel.None)),
      ),
    )
    open.push(runtime)
    const run = <A, E>(effect: Effect.Effect<A, E, Layer.Layer.Success<typeof services>>) => runtime.runPromise(effect)

    const upload = await run(createUpload(ROWS.slice(0, 3)))
    await run(Effect.flatMap(Queue, (q) => q.send("match", encodeJob(jobFor(upload)))))
    await until("the job to be dead-lettered", async () => (await run(Effect.flatMap(Queue, (q) => q.deadLetters("match")))).length === 1)

    const failed = await run(activitiesOf(upload))
    for (const row of failed) {
      expect(row).toMatchObject({ status: "failed", failureKind: "matcher_unavailable" })
      expect(row.failureReason).toStartWith("The AI matcher could not be reached: ")
    }
    const [dead] = await run(Effect.flatMap(Queue, (q) => q.deadLetters("match")))
    expect(dead!.lastError).toContain("MatcherUnavailable")
    const story = () =>
      run(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ action: string; outcomeStatus: string }>`SELECT action, outcome_status FROM audit_events WHERE object_id = ${upload} ORDER BY seq`,
        ),
      )
    // The last attempt settles the upload (its activities failed) and the job goes to the dead letters.
    expect(await story()).toEqual([
      { action: "upload_calculated", outcomeStatus: "failure" },
      { action: "job_dead_lettered", outcomeStatus: "failure" },
    ])

    const back = await startTestMatcher({ port })
    open.push({ dispose: () => back.stop() })
    await Bun.sleep(250)
    expect(await run(Effect.flatMap(Queue, (q) => q.replay("match", dead!.id)))).toBe(dead!.body)
    await until("the replayed job to calculate every activity", async () => {
      const counts = await run(statusCounts(upload))
      return counts.calculated === 3
    })
    const rows = await run(activitiesOf(upload))
    expect(rows.every((r) => r.failureReason === null && r.failureKind === null && r.matchSource === "ai")).toBe(true)
    expect(await run(Effect.flatMap(Queue, (q) => q.deadLetters("match")))).toEqual([])
    expect((await story()).at(-1)).toEqual({ action: "upload_calculated", outcomeStatus: "success" })
  }, 60_000)
})

describe("redelivery", () => {
  const totalsOf = (s: Scenario, upload: string) =>
    s.run(Effect.flatMap(EmissionsRepo, (repo) => repo.totals({ uploadId: UploadId.make(upload) })))

  test("running the same match job twice never changes the emissions", async () => {
    const s = await start()
    const upload = await s.run(createUpload(ROWS))
    await s.match(upload)
    const once = await totalsOf(s, upload)
    const rowsOnce = await s.run(activitiesOf(upload))
    // 6 keys: kWh and MWh (and L and US gal) are different keys; "Zqxv blorp" matches nothing.
    expect((await matcherStats(s.matcher)).requests).toBe(6)
    await s.match(upload)
    await s.match(upload, 5)
    expect(await totalsOf(s, upload)).toEqual(once)
    expect(await s.run(activitiesOf(upload))).toEqual(rowsOnce)
    expect(once.activities).toBe(5)
    expect((await matcherStats(s.matcher)).requests).toBe(6)
  }, 30_000)

  test("an attempt that settles the upload but cannot record it leaves the record to the next delivery, once", async () => {
    const s = await start()
    const upload = await s.run(createUpload(ROWS.slice(0, 3)))
    const story = () =>
      s.run(
        Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql<{ action: string; details: { activities: Record<string, number> } }>`
            SELECT action, details FROM audit_events WHERE object_id = ${upload} ORDER BY seq`,
        ),
      )
    const exec = (statement: string) => s.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)))
    // The settlement's record fails after the calculations committed, as a crash between them would leave it.
    await exec("ALTER TABLE audit_events ADD CONSTRAINT planted_refusal CHECK (action <> 'upload_calculated') NOT VALID")
    await expect(s.match(upload)).rejects.toThrow()
    await exec("ALTER TABLE audit_events DROP CONSTRAINT planted_refusal")
    expect((await s.run(statusCounts(upload))).calculated).toBe(3)
    expect(await story()).toEqual([])
    // The queue delivers the job again: nothing is left to match, and the settlement is recorded.
    await s.match(upload, 2)
    await s.match(upload, 3)
    expect(await story()).toEqual([{ action: "upload_calculated", details: { activities: { calculated: 3 } } }])
  }, 30_000)

  test("property: any number (1–3) and order of deliveries of two uploads' jobs gives the same totals", async () => {
    const s = await start()
    // Reference totals from one clean run of each upload.
    const [refA, refB] = [await s.run(createUpload(ROWS)), await s.run(createUpload(OTHER_ROWS))]
    await s.match(refA)
    await s.match(refB)
    const expected = [await totalsOf(s, refA), await totalsOf(s, refB)]

    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.infiniteStream(fc.boolean()),
        fc.boolean(),
        async (timesA, timesB, coin, cold) => {
          // A cold cache sends the first deliveries down the AI path; a warm one down the cache path.
          if (cold) await s.run(Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM match_cache`))
          const a = await s.run(createUpload(ROWS))
          const b = await s.run(createUpload(OTHER_ROWS))
          const pending = [...Array<string>(timesA).fill(a), ...Array<string>(timesB).fill(b)]
          // A random interleaving of the deliveries.
          const order: Array<string> = []
          const it = coin[Symbol.iterator]()
          while (pending.length > 0) order.push(pending.splice(it.next().value ? 0 : pending.length - 1, 1)[0]!)
          for (const [i, upload] of order.entries()) await s.match(upload, i + 1)
          expect(await totalsOf(s, a)).toEqual(expected[0]!)
          expect(await totalsOf(s, b)).toEqual(expected[1]!)
        },
      ),
      { numRuns: 100 },
    )
  }, 120_000)
})

describe("matcher calls per key", () => {
  test("an activity with an unknown unit fails on its own without a matcher call", async () => {
    const s = await start()
    const upload = await s.run(
      Effect.gen(function* () {
        const id = yield* createUpload([ROWS[0]!])
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE activities SET raw_unit = 'furlongs' WHERE upload_id = ${id}`
        return id
      }),
    )
    await s.match(upload)
    const [row] = await s.run(activitiesOf(upload))
    expect(row).toMatchObject({ status: "failed", failureKind: "invalid" })
    expect((await matcherStats(s.matcher)).requests).toBe(0)
  }, 30_000)
})
