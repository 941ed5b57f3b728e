/**
 * Ten million activities: the reads people use every day, on a tenant after three years of uploads
 * (`bench/seed-scale.ts`: SCALE_ACTIVITIES activities, default 10,000,000, in 200 uploads, 5,000 match
 * keys, ~2% failed, 5% of the keys under the review gate). Each endpoint is asked SCALE_REQUESTS times
 * (default 200) one after the other, after a warm-up, and its p50/p95/p99 printed next to its target;
 * an endpoint slower than a second per request gets a time budget (SCALE_BUDGET_SECONDS, default 60)
 * instead of the full count:
 *   - GET /v1/inventory for the last full calendar year                      p95 ≤ 150 ms
 *   - the dashboard page (/dashboard, default period), signed in by cookie  p95 ≤ 300 ms
 *   - GET /v1/activities?limit=25: the first page, the page 10,000 pages deep (its cursor found by
 *     following `next_cursor` 10,000 times, the walk timed too), and status=failed   p99 ≤ 30 ms
 *   - GET /v1/review, the review queue's first page                         (printed, no target)
 * For each, PostgreSQL's auto_explain logs one request's statements with EXPLAIN (ANALYZE, BUFFERS);
 * the slowest is summarised, and printed in full when the endpoint misses its target.
 *
 * Then the load test of `bench/api-load.ts`: autocannon, SCALE_LOAD_SECONDS (default 20) at 64
 * connections against GET /v1/activities?limit=25 with a token, next to Elysia's trivial route in
 * the same run; target p99 ≤ 50 ms. The last line sums it all up.
 *
 * PostgreSQL is the embedded one with its defaults (shared_buffers 128 MB) except for the WAL size,
 * raised so the seed's COPYs do not checkpoint every gigabyte. The real server runs as its own
 * process (`apps/server/src/main.ts`), as in production.
 *
 *   bun bench/scale.ts            (SCALE_ACTIVITIES=200000 for a quick look)
 *
 * SCALE_KEEP=1 keeps everything running at the end and prints the DATABASE_URL, for EXPLAIN ANALYZE by
 * hand; Ctrl-C (SIGINT) then stops and deletes it.
 */
import { SQL } from "bun"
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { apiClient } from "../test/support/api.ts"
import { seedDemo } from "../test/support/seed.ts"
import {
  benchScope,
  closeBenchScope,
  cpuSeconds,
  load,
  loadLine,
  spawnServer,
  spawnTrivialServer,
  startBenchDatabase,
  waitFor,
  waitForCatalogue,
} from "./lib/benchServer.ts"
import { seedScale } from "./seed-scale.ts"

const REQUESTS = Number(process.env.SCALE_REQUESTS ?? 200)
const BUDGET_SECONDS = Number(process.env.SCALE_BUDGET_SECONDS ?? 60)
const WARM_UP = 20
const DEEP_PAGES = 10_000
const PAGE = 25
const LOAD_SECONDS = Number(process.env.SCALE_LOAD_SECONDS ?? 20)
const CONNECTIONS = 64
const KEEP = process.env.SCALE_KEEP === "1"

// In /tmp and world-readable: the `postgres` OS user reads the seed's COPY files.
const dir = mkdtempSync("/tmp/scopeline-bench-scale-")
chmodSync(dir, 0o755)

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const ms = (value: number) => value.toFixed(1)

interface Latencies {
  readonly n: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
}

interface Target {
  readonly at: "p95" | "p99"
  readonly ms: number
}

const pgScope = benchScope()
const children: Array<ReturnType<typeof Bun.spawn>> = []
let admin: SQL | undefined

try {
  const databaseUrl = await startBenchDatabase(pgScope, dir, "bench_scale")
  admin = new SQL(databaseUrl, { max: 1 })
  const db = admin
  // auto_explain is loaded into every session (the server's pool connects after this) and stays
  // silent until log_min_duration is set; it then logs each statement's EXPLAIN (ANALYZE, BUFFERS).
  await db.unsafe("LOAD 'auto_explain'")
  for (const setting of [
    "max_wal_size = '16GB'",
    "checkpoint_timeout = '30min'",
    "session_preload_libraries = 'auto_explain'",
    "auto_explain.log_min_duration = -1",
    "auto_explain.log_analyze = on",
    "auto_explain.log_buffers = on",
  ]) {
    await db.unsafe(`ALTER SYSTEM SET ${setting}`)
  }
  await db`SELECT pg_reload_conf()`
  const [{ data_directory: dataDirectory }] = await db`SHOW data_directory`
  const logFile = join(dataDirectory as string, "postgres.log")

  const server = await spawnServer({ databaseUrl, dataDir: join(dir, "data") })
  children.push(server.child)
  const trivial = await spawnTrivialServer()
  children.push(trivial.child)
  await Promise.all([waitFor(`${server.url}/healthz`), waitFor(trivial.url)])
  await seedDemo(databaseUrl)
  await waitForCatalogue(db)

  const seed = await seedScale(databaseUrl)
  await db`CHECKPOINT`

  const api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  const bearer = { authorization: `Bearer ${api.jwt}` }
  // The pages' session cookie holds the same token (features/accounts, packages/ui/src/session.ts).
  const cookie = { cookie: `scopeline_session=${api.jwt}` }

  const get = async (path: string, headers: Record<string, string>) => {
    const started = performance.now()
    const response = await fetch(`${server.url}${path}`, { headers, redirect: "manual" })
    const body = await response.text()
    const elapsed = performance.now() - started
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${body.slice(0, 300)}`)
    return { elapsed, body }
  }

  const measure = async (path: string, headers: Record<string, string>): Promise<Latencies> => {
    const budgetEnds = performance.now() + BUDGET_SECONDS * 1000
    const first = await get(path, headers)
    // A slow endpoint gets a few warm-up requests and the time budget, not the full count.
    const warmUps = first.elapsed > 1000 ? 2 : WARM_UP
    for (let i = 1; i < warmUps; i++) await get(path, headers)
    const latencies: Array<number> = []
    while (latencies.length < REQUESTS && (latencies.length < 5 || performance.now() < budgetEnds || first.elapsed <= 1000)) {
      latencies.push((await get(path, headers)).elapsed)
    }
    latencies.sort((a, b) => a - b)
    return { n: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) }
  }

  /** The statements of one request as auto_explain logged them, slowest first. */
  const plansOf = async (path: string, headers: Record<string, string>) => {
    const setExplain = async (minDuration: number) => {
      await db.unsafe(`ALTER SYSTEM SET auto_explain.log_min_duration = ${minDuration}`)
      await db`SELECT pg_reload_conf()`
      // Backends read the reloaded file before their next statement; the signal takes a moment.
      await Bun.sleep(300)
    }
    const from = statSync(logFile).size
    await setExplain(0)
    await get(path, headers)
    await setExplain(-1)
    const text = readFileSync(logFile).subarray(from).toString("utf8")
    // One message per log line prefix ("2026-01-01 12:00:00.000 UTC [123] LOG:  …"); continuations start with a tab.
    const messages = text.split(/^(?=\S)/m).filter((message) => /LOG:\s+duration: [\d.]+ ms\s+plan:/.test(message))
    return messages
      .map((message) => {
        const duration = Number(/duration: ([\d.]+) ms/.exec(message)![1])
        const lines = message.split("\n").map((line) => line.replace(/^\t/, ""))
        const start = lines.findIndex((line) => /\(cost=|\(actual time=/.test(line))
        const plan = start < 0 ? [] : lines.slice(start).filter((line) => line.trim() !== "")
        const query = lines.slice(1, start < 0 ? undefined : start).join(" ").replace(/^Query Text:\s*/, "").replace(/\s+/g, " ").trim()
        return { duration, query, plan }
      })
      .sort((a, b) => b.duration - a.duration)
  }

  interface Measured {
    readonly name: string
    readonly latencies: Latencies
    readonly target: Target | undefined
    readonly missed: boolean
  }
  const results: Array<Measured> = []
  const report = async (name: string, path: string, headers: Record<string, string>, target: Target | undefined) => {
    const latencies = await measure(path, headers)
    const missed = target !== undefined && latencies[target.at] > target.ms
    const verdict = target === undefined ? "" : `target ${target.at} ≤ ${target.ms} ms: ${missed ? "MISSED" : "ok"}`
    console.log(
      `${name.padEnd(30)} n=${String(latencies.n).padEnd(4)} p50 ${ms(latencies.p50).padStart(8)}  p95 ${ms(latencies.p95).padStart(8)}  p99 ${ms(latencies.p99).padStart(8)} ms   ${verdict}`,
    )
    console.log(`  GET ${path.length > 110 ? `${path.slice(0, 110)}…` : path}`)
    // The endpoint's own query: the slowest statement that reads activities (or their totals), else the slowest.
    const plans = await plansOf(path, headers)
    const slowest = plans.find((plan) => /\b(activities|inventory_totals)\b/.test(plan.query)) ?? plans[0]
    if (slowest !== undefined) {
      const top = slowest.plan[0]?.trim() ?? ""
      const buffers = slowest.plan.find((line) => /^\s*Buffers:/.test(line))?.trim() ?? ""
      console.log(`  slowest statement ${ms(slowest.duration)} ms: ${top.slice(0, 140)}${buffers ? `; ${buffers}` : ""}`)
      if (missed) {
        console.log(`  query: ${slowest.query.slice(0, 2_000)}`)
        for (const line of slowest.plan) console.log(`    ${line}`)
      }
    }
    results.push({ name, latencies, target, missed })
    return latencies
  }

  const year = seed.fullYear
  console.log(`\n${REQUESTS} sequential requests per endpoint (warm-up ${WARM_UP}); accountant@demo.scopeline.dev`)
  const inventory = await report(`inventory, ${year}`, `/v1/inventory?from=${year}-01-01&to=${year}-12-31`, bearer, { at: "p95", ms: 150 })
  const dashboard = await report("dashboard page", "/dashboard", cookie, { at: "p95", ms: 300 })
  const firstPage = await report("activities, first page", `/v1/activities?limit=${PAGE}`, bearer, { at: "p99", ms: 30 })

  // The honest way to a deep page: follow next_cursor, as a client exporting page by page does.
  const depth = Math.min(DEEP_PAGES, Math.floor(seed.activities / PAGE) - 2)
  const walkStarted = performance.now()
  let cursor: string | null = null
  for (let page = 0; page < depth; page++) {
    const { body } = await get(`/v1/activities?limit=${PAGE}${cursor === null ? "" : `&cursor=${cursor}`}`, bearer)
    cursor = (JSON.parse(body) as { next_cursor: string | null }).next_cursor
    if (cursor === null) throw new Error(`the listing ended after ${page + 1} pages`)
  }
  const walkSeconds = (performance.now() - walkStarted) / 1000
  console.log(
    `cursor walk: ${depth.toLocaleString("en-US")} pages of ${PAGE} in ${walkSeconds.toFixed(1)} s (${ms((walkSeconds * 1000) / depth)} ms a page on average)`,
  )
  const deepPage = await report(`activities, page ${depth.toLocaleString("en-US")}`, `/v1/activities?limit=${PAGE}&cursor=${cursor}`, bearer, { at: "p99", ms: 30 })
  const failedPage = await report("activities, status=failed", `/v1/activities?status=failed&limit=${PAGE}`, bearer, { at: "p99", ms: 30 })
  const review = await report("review queue", "/v1/review", bearer, undefined)

  // The load test, as bench/api-load.ts runs it.
  const activitiesUrl = `${server.url}/v1/activities?limit=${PAGE}`
  await load(trivial.url, { seconds: 3, connections: CONNECTIONS })
  await load(activitiesUrl, { headers: bearer, seconds: 3, connections: CONNECTIONS })
  const trivialLoad = await load(trivial.url, { seconds: LOAD_SECONDS, connections: CONNECTIONS })
  const cpuBefore = cpuSeconds(server.child.pid)
  const activitiesLoad = await load(activitiesUrl, { headers: bearer, seconds: LOAD_SECONDS, connections: CONNECTIONS })
  const serverCpu = cpuSeconds(server.child.pid) - cpuBefore
  const ratio = trivialLoad.requests.average / activitiesLoad.requests.average
  const loadMissed = activitiesLoad.latency.p99 > 50
  console.log(`\n${CONNECTIONS} connections, ${LOAD_SECONDS} s each (autocannon 9, under Node)`)
  console.log(loadLine("Elysia, trivial JSON route", trivialLoad))
  console.log(loadLine(`GET /v1/activities?limit=${PAGE}`, activitiesLoad))
  console.log(
    `ratio ${ratio.toFixed(1)}× fewer requests/s than the trivial route; server ${((serverCpu * 1000) / activitiesLoad.requests.total).toFixed(2)} ms CPU per request; ` +
      `target p99 ≤ 50 ms: ${loadMissed ? "MISSED" : "ok"}`,
  )

  const missed = [...results.filter((result) => result.missed).map((result) => result.name), ...(loadMissed ? ["load p99"] : [])]
  console.log(`\nmissed: ${missed.length === 0 ? "none" : missed.join("; ")}`)
  console.log(
    `scale: ${seed.activities} activities; inventory p95 ${ms(inventory.p95)} ms; dashboard p95 ${ms(dashboard.p95)} ms; ` +
      `activities first p99 ${ms(firstPage.p99)} ms, deep p99 ${ms(deepPage.p99)} ms, failed p99 ${ms(failedPage.p99)} ms; ` +
      `review p99 ${ms(review.p99)} ms; load ${Math.round(activitiesLoad.requests.average)} req/s p99 ${activitiesLoad.latency.p99} ms (ratio ${ratio.toFixed(1)}×)`,
  )

  if (KEEP) {
    console.log(`\nSCALE_KEEP: DATABASE_URL=${databaseUrl}\n  server ${server.url}, token ${api.jwt}\n  Ctrl-C (SIGINT) stops and deletes it all.`)
    await new Promise<void>((resolve) => {
      // Both listeners go as soon as one fires: one left behind would keep the process alive.
      const stop = () => {
        process.off("SIGINT", stop)
        process.off("SIGTERM", stop)
        resolve()
      }
      process.on("SIGINT", stop)
      process.on("SIGTERM", stop)
    })
  }
} finally {
  for (const child of children) {
    child.kill("SIGTERM")
    await child.exited
  }
  await admin?.close()
  await closeBenchScope(pgScope)
  rmSync(dir, { recursive: true, force: true })
}
// After a SCALE_KEEP wait the process stayed alive with nothing left to do once everything above had
// stopped; nothing is left to wait for, so it ends here.
if (KEEP) process.exit(0)
