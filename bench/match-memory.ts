/**
 * Match worker memory against the number of distinct keys: one upload whose every activity has its own
 * description (so every key misses the cache and goes to the reference matcher), for each size in
 * MATCH_MEMORY_KEYS (default 20,000 and 100,000). The worker runs as its own process, as in production;
 * its peak RSS is the kernel's high-water mark (`VmHWM`), hence one fresh worker per size.
 * Target: peak RSS ≤ 300 MB for both sizes, i.e. flat in the number of keys.
 *
 *   bun bench/match-memory.ts
 *   MATCH_MEMORY_KEYS=2000 bun bench/match-memory.ts
 */
import { freePort, startEmbeddedPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { FactorsRepo } from "@scopeline/catalogue/FactorsRepo"
import { migrate } from "@scopeline/sql/Migrator"
import { encodeJob, MatchJob } from "@scopeline/uploads/Jobs"
import { loadCatalogue } from "@scopeline/catalogue/loadCatalogue"
import { PgQueueLive } from "@scopeline/queue/PgQueue"
import { createParsedUpload } from "./lib/parsedUpload.ts"
import { Queue } from "@scopeline/queue/Queue"
import { Duration, Effect, Layer, Logger, LogLevel, Redacted, String as Str } from "effect"
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const SIZES = (process.env.MATCH_MEMORY_KEYS ?? "20000,100000").split(",").map(Number)
const root = join(import.meta.dir, "..")

const dir = mkdtempSync(join(tmpdir(), "scopeline-bench-match-memory-"))
chmodSync(dir, 0o755)

const waitHealthy = async (url: string) => {
  for (let ready = false; !ready; ) {
    ready = await fetch(url).then((r) => r.ok, () => false)
    if (!ready) await Bun.sleep(100)
  }
}

const matcherPort = await freePort()
const matcherProcess = Bun.spawn(["bun", join(root, "apps/matcher/src/main.ts")], {
  env: { ...process.env, MATCHER_PORT: String(matcherPort), LOG_LEVEL: "Warn" },
  stdout: "ignore",
  stderr: "inherit",
})
const matcherUrl = `http://127.0.0.1:${matcherPort}`
await waitHealthy(`${matcherUrl}/healthz`)

/** kB figures from /proc/<pid>/status. */
const procStatus = (pid: number, field: "VmHWM" | "VmRSS"): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`))
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024
}

const program = (databaseUrl: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const queue = yield* Queue
    const results: Array<string> = []
    for (const keys of SIZES) {
      // Every row its own description: every key is a cache miss.
      const uploadId = yield* createParsedUpload(
        keys,
        (sql) => sql`SELECT 'Diesel for generator ' || g || ' at depot ' || (g * 7919 % 100003), 10 + g % 90,
                            'L', 'GB', date '2024-01-01' + (g % 366), 'fuel'`,
      )

      // A fresh worker per size: VmHWM is the high-water mark of the process's whole life.
      const worker = Bun.spawn(["bun", join(root, "apps/worker/src/main.ts")], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          MATCHER_URL: matcherUrl,
          WORKER_QUEUES: "match",
          LOG_LEVEL: "Warn",
          DATA_DIR: join(dir, "worker"),
        },
        stdout: "ignore",
        stderr: "inherit",
      })
      yield* Effect.sleep(Duration.seconds(2))
      const idle = procStatus(worker.pid, "VmRSS")
      const started = performance.now()
      yield* queue.send("match", encodeJob(new MatchJob({ uploadId, correlationId: `bench-memory-${keys}` })))
      let peakSampled = 0
      let settled: { calculated: number; failed: number } | undefined
      while (!settled) {
        peakSampled = Math.max(peakSampled, procStatus(worker.pid, "VmRSS"))
        const [row] = yield* sql<{ unsettled: number; calculated: number; failed: number }>`
          SELECT count(*) FILTER (WHERE status IN ('ingested', 'matching'))::int AS unsettled,
                 count(*) FILTER (WHERE status = 'calculated')::int AS calculated,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed
          FROM activities WHERE upload_id = ${uploadId}`
        if (row!.unsettled === 0) settled = row!
        else yield* Effect.sleep(Duration.millis(200))
      }
      const seconds = (performance.now() - started) / 1000
      const peak = procStatus(worker.pid, "VmHWM")
      worker.kill()
      yield* Effect.promise(() => worker.exited)
      const line =
        `match memory: ${keys} distinct keys settled in ${seconds.toFixed(1)} s ` +
        `(${settled.calculated} calculated, ${settled.failed} failed), worker peak RSS ${peak.toFixed(0)} MB ` +
        `(idle ${idle.toFixed(0)} MB, sampled max ${peakSampled.toFixed(0)} MB; target ≤ 300 MB)`
      console.log(line)
      results.push(line)
    }
  })

const main = Effect.gen(function* () {
  const postgres = yield* startEmbeddedPostgres({ databaseDir: join(dir, "pg"), port: yield* Effect.promise(freePort), persistent: false })
  const client = PgClient.layer({
    url: Redacted.make(postgres.url),
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel,
  })
  yield* Effect.all([migrate(), loadCatalogue()], { discard: true }).pipe(
    Effect.provide(FactorsRepo.Default.pipe(Layer.provideMerge(client))),
  )
  yield* program(postgres.url).pipe(Effect.provide(PgQueueLive.pipe(Layer.provideMerge(client))))
}).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning))

try {
  await Effect.runPromise(main)
} finally {
  matcherProcess.kill()
  rmSync(dir, { recursive: true, force: true })
}
