/**
 * Matching benchmark: one upload of 100,000 activities over 1,000 distinct keys against the reference
 * matcher at 200 ms latency and a concurrency cap of 10. The floor is 1,000 × 0.2 s / 10 = 20 s: the
 * pipeline should keep 10 requests in flight the whole time (target ≤ 1.25 × floor), make exactly one
 * call per distinct uncached key, and price a second, fully cached upload of the same rows in ≤ 10 s.
 *
 *   bun bench/match.ts
 */
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { FactorsRepo } from "@scopeline/catalogue/FactorsRepo"
import { freePort, startEmbeddedPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { migrate } from "@scopeline/sql/Migrator"
import { encodeJob, MatchJob } from "@scopeline/uploads/Jobs"
import { loadCatalogue } from "@scopeline/catalogue/loadCatalogue"
import { MatchUpload } from "@scopeline/matching/MatchUpload"
import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { createParsedUpload } from "./lib/parsedUpload.ts"
import { Queue } from "@scopeline/queue/Queue"
import { MatchWorkerLive } from "@scopeline/matching/matchWorker"
import { ConfigProvider, Duration, Effect, Layer, Logger, LogLevel, Redacted, String as Str } from "effect"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const ACTIVITIES = 100_000
const KEYS = 1_000
const LATENCY_MS = 200
const CAP = 10
const FLOOR_S = (KEYS * LATENCY_MS) / 1000 / CAP

const dir = mkdtempSync(join(tmpdir(), "scopeline-bench-match-"))
chmodSync(dir, 0o755)

// The matcher runs as its own process, as it does in production: its ranking work must not share
// an event loop with the pipeline being measured.
const matcherPort = await freePort()
const matcherProcess = Bun.spawn(["bun", join(import.meta.dir, "../apps/matcher/src/main.ts")], {
  env: { ...process.env, MATCHER_PORT: String(matcherPort), MATCHER_LATENCY_MS: String(LATENCY_MS), MATCHER_CONCURRENCY: String(CAP) },
  stdout: "ignore",
  stderr: "inherit",
})
const matcherUrl = `http://127.0.0.1:${matcherPort}`
const matcher = {
  stats: async () => (await (await fetch(`${matcherUrl}/stats`)).json()) as { requests: number; inFlightMax: number },
  resetStats: () => fetch(`${matcherUrl}/stats/reset`, { method: "POST" }),
}
for (let ready = false; !ready; ) {
  ready = await fetch(`${matcherUrl}/healthz`).then((r) => r.ok, () => false)
  if (!ready) await Bun.sleep(100)
}

const program = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const queue = yield* Queue

  // As the parser leaves them: 'ingested', one row per file row, KEYS distinct descriptions.
  const createUpload = createParsedUpload(
    ACTIVITIES,
    (sql) => sql`SELECT 'Store electricity - outlet ' || ((g % ${KEYS}) + 1), ((g % 97) + 1)::numeric * 10,
                        'kWh', 'SG', date '2024-01-01' + (g % 366), 'electricity'`,
  )

  const settle = (uploadId: string) =>
    Effect.gen(function* () {
      const started = performance.now()
      yield* queue.send("match", encodeJob(new MatchJob({ uploadId, correlationId: `bench-${uploadId.slice(0, 8)}` })))
      while (true) {
        const [row] = yield* sql<{ unsettled: number; calculated: number }>`
          SELECT count(*) FILTER (WHERE status IN ('ingested', 'matching'))::int AS unsettled,
                 count(*) FILTER (WHERE status = 'calculated')::int AS calculated
          FROM activities WHERE upload_id = ${uploadId}`
        if (row!.unsettled === 0) return { seconds: (performance.now() - started) / 1000, calculated: row!.calculated }
        yield* Effect.sleep(Duration.millis(50))
      }
    })

  const first = yield* createUpload
  yield* Effect.promise(matcher.resetStats)
  const run1 = yield* settle(first)
  const stats1 = yield* Effect.promise(matcher.stats)
  const ratio = run1.seconds / FLOOR_S
  console.log(`first upload: ${run1.calculated}/${ACTIVITIES} calculated, settled in ${run1.seconds.toFixed(2)} s`)
  console.log(`matcher calls: ${stats1.requests} (distinct uncached keys: ${KEYS}), in flight max ${stats1.inFlightMax}`)
  console.log(`floor ${FLOOR_S} s → ${ratio.toFixed(3)}× floor (target ≤ 1.25)`)

  const second = yield* createUpload
  yield* Effect.promise(matcher.resetStats)
  const run2 = yield* settle(second)
  const stats2 = yield* Effect.promise(matcher.stats)
  console.log(`cached rerun: ${run2.calculated}/${ACTIVITIES} calculated in ${run2.seconds.toFixed(2)} s, ${stats2.requests} matcher calls (target ≤ 10 s)`)
  console.log(
    `match: ${ACTIVITIES} activities, ${stats1.requests} matcher calls, ${ratio.toFixed(2)}× floor; cached rerun ${run2.seconds.toFixed(2)} s`,
  )
})

const main = Effect.gen(function* () {
  const postgres = yield* startEmbeddedPostgres({ databaseDir: join(dir, "pg"), port: yield* Effect.promise(freePort), persistent: false })
  const client = PgClient.layer({
    url: Redacted.make(postgres.url),
    maxConnections: 20,
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel,
  })
  const config = Layer.setConfigProvider(
    ConfigProvider.fromMap(new Map([["MATCHER_URL", matcherUrl], ["MATCHER_CONCURRENCY", String(CAP)]])),
  )
  // Schema and catalogue first: the worker's consumer starts polling the queue table as soon as it is built.
  yield* Effect.all([migrate(), loadCatalogue()], { discard: true }).pipe(
    Effect.provide(FactorsRepo.Default.pipe(Layer.provideMerge(client))),
  )
  const services = Layer.mergeAll(MatchUpload.Default, FactorsRepo.Default, PgQueueLive).pipe(Layer.provideMerge(client))
  const layer = MatchWorkerLive.pipe(Layer.provideMerge(services), Layer.provide(config))
  yield* program.pipe(Effect.provide(layer))
}).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning))

try {
  await Effect.runPromise(main)
} finally {
  matcherProcess.kill()
  rmSync(dir, { recursive: true, force: true })
}
