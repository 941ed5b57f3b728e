/**
 * Measurement ingest benchmark: 50 concurrent clients, each sending batches to
 * `POST /v1/sites/:id/measurements` back to back for BENCH_SECONDS (default 15) against the real
 * server and PostgreSQL; prints p50, p95 and p99 of the request latency. Target: p99 ≤ 100 ms.
 *
 * Two ways of loading it, each printed for clients spread over BENCH_SITES sites (default 10, five
 * devices per site) and for all 50 on one site (every batch takes its site's row lock, which is what
 * makes the running totals exact, so batches for one site queue behind each other):
 * - paced: each client sends one batch every BENCH_INTERVAL_MS (default 1000), as devices do — the
 *   latency a device sees at that offered load (50 batches/s);
 * - flat out: each client sends its next batch as soon as the last is answered — the saturation
 *   point, where latency is the clients' queue (Little's law: 50 / throughput).
 * BENCH_BATCH readings per batch (default 10), every one new. The real server runs as its own process
 * (`apps/server/src/main.ts`), as in production; the clients run in this one.
 * Each load also prints the CPU per batch of the server process and of PostgreSQL's processes.
 *
 * The loads are sent as devices send them, with an API key (`measurements:write`), and then as a
 * signed-in accountant. First comes a warm-up, flat out for BENCH_WARMUP_SECONDS (default 20),
 * printed too: a fresh server spends a quarter to a third more CPU per batch until its JavaScript is compiled
 * (and a fresh database more per batch over its first readings), which is the first seconds of a
 * deployment, not the service it then gives.
 *
 *   bun bench/measurements.ts     (BENCH_PROFILE_DIR=/tmp/prof profiles the server, as in bench/api-load.ts)
 */
import { SQL } from "bun"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"
import { apiClient } from "../test/support/api.ts"
import { seedDemo } from "../test/support/seed.ts"
import { benchDatabaseDir, benchScope, closeBenchScope, cpuSeconds, postgresCpuSeconds, spawnServer, startBenchDatabase, waitFor, waitForCatalogue } from "./lib/benchServer.ts"

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15)
const SITES = Number(process.env.BENCH_SITES ?? 10)
const BATCH = Number(process.env.BENCH_BATCH ?? 10)
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 1000)
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 20)

const dir = mkdtempSync("/tmp/scopeline-bench-measurements-")
chmodSync(dir, 0o755)
const pgScope = benchScope()
const databaseUrl = await startBenchDatabase(pgScope, dir, "bench_measurements")
const server = await spawnServer({ databaseUrl, dataDir: join(dir, "data"), profileDir: process.env.BENCH_PROFILE_DIR })
await waitFor(`${server.url}/healthz`)
await seedDemo(databaseUrl)
// The GWPs of the gases come from the catalogue the server loads at start.
const db = new SQL(databaseUrl)
await waitForCatalogue(db)
await db.close()
const api = await apiClient(server.url, "accountant@demo.scopeline.dev")
const admin = await apiClient(server.url, "admin@demo.scopeline.dev")
const userHeaders = { authorization: `Bearer ${api.jwt}`, "content-type": "application/json" }

const createSites = async (n: number, prefix: string) => {
  const ids: Array<string> = []
  for (let i = 0; i < n; i++) {
    const response = await api.post("/v1/sites", { code: `${prefix}-${i}`, name: `Bench ${prefix} ${i}`, country: "GB", emission_limit_kg_co2e: 1e12, limit_period: "month" })
    ids.push(((await response.json()) as { site: { id: string } }).site.id)
  }
  return ids
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

// Readings a second apart from a point in the past, distinct per client: every item is new.
const base = Date.now() - 30 * 86_400_000

const run = async (label: string, siteIds: ReadonlyArray<string>, intervalMs: number, headers: Record<string, string>, seconds = SECONDS) => {
  const latencies: Array<number> = []
  let failures = 0
  const deadline = performance.now() + seconds * 1000
  const client = async (c: number) => {
    const siteId = siteIds[c % siteIds.length]!
    let sequence = 0
    // Paced clients start spread over one interval, as independent devices would.
    let next = performance.now() + (intervalMs * c) / CLIENTS
    while (performance.now() < deadline) {
      if (intervalMs > 0) {
        const wait = next - performance.now()
        if (wait > 0) await Bun.sleep(wait)
        next += intervalMs
      }
      const measurements = Array.from({ length: BATCH }, () => ({
        timestamp: new Date(base + sequence++ * 1000).toISOString(),
        gas: sequence % 3 === 0 ? "CH4" : "CO2",
        quantity: 1.5,
        unit: "kg",
        device_id: `bench-${c}`,
      }))
      const started = performance.now()
      const response = await fetch(`${server.url}/v1/sites/${siteId}/measurements`, { method: "POST", headers, body: JSON.stringify({ measurements }) })
      await response.arrayBuffer()
      latencies.push(performance.now() - started)
      if (response.status !== 200) failures++
    }
  }
  // Warm-up: connections, the GWP cache, JIT.
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => fetch(`${server.url}/v1/sites/${siteIds[c % siteIds.length]}`, { headers }).then((r) => r.arrayBuffer())))
  const cpuBefore = cpuSeconds(server.child.pid)
  const databaseCpuBefore = postgresCpuSeconds(benchDatabaseDir(dir))
  await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)))
  const serverCpuMs = ((cpuSeconds(server.child.pid) - cpuBefore) * 1000) / latencies.length
  const databaseCpuMs = ((postgresCpuSeconds(benchDatabaseDir(dir)) - databaseCpuBefore) * 1000) / latencies.length
  latencies.sort((a, b) => a - b)
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`
  console.log(
    `${label}: ${latencies.length} batches of ${BATCH} in ${seconds} s (${Math.round(latencies.length / seconds)} batches/s, ${failures} not 200) — ` +
      `p50 ${fmt(percentile(latencies, 50))}, p95 ${fmt(percentile(latencies, 95))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1)!)}; CPU per batch: server ${serverCpuMs.toFixed(2)} ms, PostgreSQL ${databaseCpuMs.toFixed(2)} ms`,
  )
}

try {
  const spread = await createSites(SITES, "SPREAD")
  const one = await createSites(1, "ONE")
  const created = await admin.post("/v1/admin/api-keys", { name: "bench devices", scopes: ["measurements:write"], site_ids: [...spread, ...one] })
  const keyHeaders = { authorization: `Bearer ${((await created.json()) as { api_key: { secret: string } }).api_key.secret}`, "content-type": "application/json" }
  if (WARMUP_SECONDS > 0) await run(`warm-up (a fresh server and database), API key, flat out, ${CLIENTS} clients over ${SITES} sites`, spread, 0, keyHeaders, WARMUP_SECONDS)
  for (const [caller, headers] of [["API key", keyHeaders], ["signed-in accountant", userHeaders]] as const) {
    await run(`${caller}, paced (1 batch / ${INTERVAL_MS} ms each), ${CLIENTS} clients over ${SITES} sites`, spread, INTERVAL_MS, headers)
    await run(`${caller}, paced (1 batch / ${INTERVAL_MS} ms each), ${CLIENTS} clients on 1 site`, one, INTERVAL_MS, headers)
    await run(`${caller}, flat out, ${CLIENTS} clients over ${SITES} sites`, spread, 0, headers)
    await run(`${caller}, flat out, ${CLIENTS} clients on 1 site`, one, 0, headers)
  }
} finally {
  server.child.kill("SIGTERM")
  await server.child.exited
  await closeBenchScope(pgScope)
  rmSync(dir, { recursive: true, force: true })
}
