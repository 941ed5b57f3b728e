/**
 * The API under load: `GET /v1/activities?limit=25` with a valid token, 64 connections
 * for 20 s, against Elysia serving one trivial JSON route in the same run — requests/s, p50/p99 and
 * the ratio. The load generator is autocannon (pinned in the root package.json; Debian's `wrk` is not
 * installed on these machines), run under Node as its own process so it never shares an event loop
 * with a server.
 *
 * Data: API_LOAD_ACTIVITIES activities (default 1,000,000) over 10 uploads, 90% calculated with a
 * factor of the real catalogue, loaded with one server-side COPY, then VACUUM ANALYZE. The real
 * server runs as its own process (`apps/server/src/main.ts`), as in production.
 *
 *   bun bench/api-load.ts            (API_LOAD_ACTIVITIES=100000 API_LOAD_SECONDS=5 for a quick look)
 *
 * Before the measured runs, the listing is loaded for API_LOAD_WARMUP_SECONDS (default 20), unmeasured.
 *
 * API_LOAD_PROFILE_DIR=/tmp/prof profiles the server process (`bun --cpu-prof --cpu-prof-md`): it is
 * stopped with SIGTERM at the end, shuts down through its layers and writes a .cpuprofile and a
 * markdown summary (grep-friendly) into that directory. The profile covers the whole process life,
 * start-up, seeding and warm-ups included; the measured runs dominate it.
 */
import { SQL } from "bun"
import { chmodSync, mkdtempSync, rmSync } from "node:fs"
import { join } from "node:path"
import { apiClient } from "../test/support/api.ts"
import { seedDemo } from "../test/support/seed.ts"
import {
  benchDatabaseDir,
  benchScope,
  closeBenchScope,
  cpuSeconds,
  load,
  loadLine,
  postgresCpuSeconds,
  spawnServer,
  spawnTrivialServer,
  startBenchDatabase,
  waitFor,
  waitForCatalogue,
} from "./lib/benchServer.ts"

const ACTIVITIES = Number(process.env.API_LOAD_ACTIVITIES ?? 1_000_000)
const UPLOADS = 10
const WARMUP_SECONDS = Number(process.env.API_LOAD_WARMUP_SECONDS ?? 20)
const SECONDS = Number(process.env.API_LOAD_SECONDS ?? 20)
const CONNECTIONS = 64
const PROFILE_DIR = process.env.API_LOAD_PROFILE_DIR

// In /tmp and world-readable: the `postgres` OS user reads the COPY file.
const dir = mkdtempSync("/tmp/scopeline-bench-api-load-")
chmodSync(dir, 0o755)

const pgScope = benchScope()
const children: Array<ReturnType<typeof Bun.spawn>> = []
let db: SQL | undefined

try {
  const databaseUrl = await startBenchDatabase(pgScope, dir, "bench_api_load")
  const server = await spawnServer({ databaseUrl, dataDir: join(dir, "data"), profileDir: PROFILE_DIR })
  const serverUrl = server.url
  children.push(server.child)
  const trivial = await spawnTrivialServer()
  const trivialUrl = trivial.url
  children.push(trivial.child)
  await Promise.all([waitFor(`${serverUrl}/healthz`), waitFor(trivialUrl)])
  await seedDemo(databaseUrl)
  db = new SQL(databaseUrl)
  // The server loads the catalogue at start; the activities point at its factors.
  await waitForCatalogue(db)
  const factors: Array<{ id: string }> = await db`SELECT id::text AS id FROM emission_factors ORDER BY ref LIMIT 500`

  // Ten uploads a day apart, as ten parses would leave them (one created_at per upload).
  const [{ id: accountant }] = await db`SELECT id FROM users WHERE role = 'accountant' LIMIT 1`
  const uploads: Array<{ id: string; createdAt: string }> = []
  for (let u = 0; u < UPLOADS; u++) {
    const createdAt = new Date(Date.now() - (UPLOADS - u) * 86_400_000).toISOString()
    const id = Bun.randomUUIDv7()
    await db`INSERT INTO uploads (id, accountant, s3_object_url, status, row_count, created_at)
             VALUES (${id}, ${accountant}, ${`uploads/${id}.csv`}, 'parsed', ${ACTIVITIES / UPLOADS}, ${createdAt})`
    uploads.push({ id, createdAt })
  }

  const generatedAt = performance.now()
  const file = join(dir, "activities.csv")
  const writer = Bun.file(file).writer({ highWaterMark: 1 << 20 })
  const perUpload = Math.ceil(ACTIVITIES / UPLOADS)
  for (let i = 0; i < ACTIVITIES; i++) {
    const upload = uploads[Math.floor(i / perUpload)]!
    const row = (i % perUpload) + 2
    const site = i % 400
    const quantity = ((i * 7919) % 100_000) / 10
    if (i % 10 === 9) {
      writer.write(`${Bun.randomUUIDv7()},${upload.id},${row},Unknown thing - site ${site},${quantity},kWh,2024-0${1 + (i % 9)}-15,SG,,failed,,,,,,no_match,${upload.createdAt}\n`)
    } else {
      const factor = factors[i % factors.length]!.id
      writer.write(
        `${Bun.randomUUIDv7()},${upload.id},${row},Store electricity - site ${site},${quantity},kWh,2024-0${1 + (i % 9)}-15,SG,electricity,calculated,` +
          `${factor},${(quantity * 0.4).toFixed(4)},kg CO2e,ai,0.99,,${upload.createdAt}\n`,
      )
    }
  }
  await writer.end()
  chmodSync(file, 0o644)
  const copyStarted = performance.now()
  await db.unsafe(`COPY activities (id, upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date, geography, category,
                     status, matched_factor_id, emissions, emissions_unit, match_source, factor_confidence, failure_kind, created_at)
                   FROM '${file}' WITH (FORMAT csv)`)
  const copySeconds = (performance.now() - copyStarted) / 1000
  await db`VACUUM ANALYZE activities`
  const [{ n }] = await db`SELECT count(*)::int AS n FROM activities`
  console.log(
    `${n.toLocaleString("en-US")} activities over ${UPLOADS} uploads: generated in ${((copyStarted - generatedAt) / 1000).toFixed(1)} s, COPY ${copySeconds.toFixed(1)} s`,
  )

  const api = await apiClient(serverUrl, "accountant@demo.scopeline.dev")
  const activitiesUrl = `${serverUrl}/v1/activities?limit=25`
  const probe = await api.get("/v1/activities?limit=25")
  if (probe.status !== 200) throw new Error(`GET /v1/activities answered ${probe.status}: ${await probe.text()}`)
  const headers = { authorization: `Bearer ${api.jwt}` }
  // Warm-ups (JIT, buffers, pools), not measured: a fresh server needs most of 20 s under load before
  // its JavaScript is compiled (docs/benchmarks.md, "Warmed up, and called as devices call it").
  await load(trivialUrl, { seconds: 3, connections: CONNECTIONS })
  await load(activitiesUrl, { headers, seconds: WARMUP_SECONDS, connections: CONNECTIONS })

  const trivialResult = await load(trivialUrl, { seconds: SECONDS, connections: CONNECTIONS })
  const serverPid = children[0]!.pid
  const transactions = async () => {
    const [{ n }] = await db!`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`
    return Number(n)
  }
  const transactionsBefore = await transactions()
  const cpuBefore = cpuSeconds(serverPid)
  const databaseCpuBefore = postgresCpuSeconds(benchDatabaseDir(dir))
  const activities = await load(activitiesUrl, { headers, seconds: SECONDS, connections: CONNECTIONS })
  const serverCpu = cpuSeconds(serverPid) - cpuBefore
  const databaseCpu = postgresCpuSeconds(benchDatabaseDir(dir)) - databaseCpuBefore
  // The statistics collector flushes at most once a second: wait for it before reading the count.
  await Bun.sleep(1500)
  const transactionsPerRequest = ((await transactions()) - transactionsBefore) / activities.requests.total
  const cpuPerRequest = (serverCpu * 1000) / activities.requests.total
  const databaseCpuPerRequest = (databaseCpu * 1000) / activities.requests.total
  console.log(`\n${CONNECTIONS} connections, ${SECONDS} s each (autocannon 9, under Node)`)
  console.log(loadLine("Elysia, trivial JSON route", trivialResult))
  console.log(loadLine("GET /v1/activities?limit=25", activities))
  console.log(`server process: ${(serverCpu / SECONDS).toFixed(2)} cores busy, ${cpuPerRequest.toFixed(2)} ms CPU per request`)
  console.log(
    `PostgreSQL: ${(databaseCpu / SECONDS).toFixed(2)} cores busy, ${databaseCpuPerRequest.toFixed(2)} ms CPU and ${transactionsPerRequest.toFixed(2)} transactions per request`,
  )
  console.log(
    `api-load: ${n} activities, ${Math.round(activities.requests.average)} req/s p50 ${activities.latency.p50} ms p99 ${activities.latency.p99} ms; ` +
      `trivial route ${Math.round(trivialResult.requests.average)} req/s p99 ${trivialResult.latency.p99} ms; ratio ${(trivialResult.requests.average / activities.requests.average).toFixed(1)}× fewer requests/s; ` +
      `server ${cpuPerRequest.toFixed(2)} ms and PostgreSQL ${databaseCpuPerRequest.toFixed(2)} ms CPU per request`,
  )
} finally {
  for (const child of children) {
    child.kill("SIGTERM")
    const code = await child.exited
    if (PROFILE_DIR && child === children[0]) console.log(`server exited ${code}; profile in ${PROFILE_DIR}`)
  }
  await db?.close()
  await closeBenchScope(pgScope)
  rmSync(dir, { recursive: true, force: true })
}
