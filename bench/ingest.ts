/**
 * Ingest benchmark: a realistic activity file of 100,000 and of 1,000,000 rows through the real
 * pipeline — GET /v1/upload/new, PUT the file (streamed from disk) to the real server, POST
 * /v1/upload, then the real worker (a separate process, as in production) parses, validates and
 * stores every row in one transaction — timed until GET /v1/uploads/:id says `parsed`.
 *
 * Two floors, timed in the same run on the same server: PostgreSQL's own `COPY … FROM '<file>'` of
 * the same rows into a bare table (only the file's columns, no index, constraint or default), and
 * into a table with the same columns, defaults, constraints, foreign keys and indexes as
 * `activities`. Targets: ≤ 4× the bare COPY, and a worker peak RSS (VmHWM: the kernel's
 * high-water mark, one fresh worker per size) ≤ 200 MB and about the same for both sizes.
 *
 *   bun bench/ingest.ts            (INGEST_SIZES=100000 bun bench/ingest.ts for one size)
 */
import { freePort, startEmbeddedPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { SQL } from "bun"
import { Effect, Exit, Scope } from "effect"
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { apiClient, type ApiClient, type UploadTarget } from "../test/support/api.ts"
import { seedDemo } from "../test/support/seed.ts"
import { startServer, type TestServer } from "../test/support/server.ts"
import { HEADER, writeActivityFiles } from "./lib/activityCsv.ts"

const SIZES = (process.env.INGEST_SIZES ?? "100000,1000000").split(",").map(Number)
const POLL_MS = 100
const root = join(import.meta.dir, "..")

// In /tmp, readable by the `postgres` OS user that runs the server (COPY FROM '<file>').
const dir = mkdtempSync("/tmp/scopeline-bench-ingest-")
chmodSync(dir, 0o755)

const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** The kernel's view of a process's memory, in MB: current (VmRSS) and peak (VmHWM). */
const memoryOf = (pid: number) => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8")
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "NaN")
    return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 }
  } catch {
    return undefined
  }
}

const spawnWorker = (server: TestServer) =>
  Bun.spawn(["bun", "apps/worker/src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/root",
      // DATABASE_URL, DATA_DIR (the blob store the server writes to) and JWT_SECRET, as the server has them.
      ...server.settings,
      LOG_LEVEL: "Warn",
      PARSE_CONCURRENCY: "1",
      // Only the parse is timed: no match consumer competes for the worker's CPU and memory.
      MATCH_CONCURRENCY: "0",
      MATCHER_URL: "http://127.0.0.1:9",
    },
    stdout: "ignore",
    stderr: "inherit",
  })

interface UploadView {
  readonly status: string
  readonly row_count: number | null
  readonly failure_reason: string | null
}

/** Upload → parsed through the public API; returns the phase timings (seconds from the start). */
const ingest = async (server: TestServer, api: ApiClient, body: Blob, timeoutMs: number) => {
  const started = performance.now()
  const since = () => (performance.now() - started) / 1000
  const target = (await (await api.get(`/v1/upload/new?filename=activities.csv`)).json()) as UploadTarget
  const put = await fetch(new URL(target.url, server.url), { method: target.method, headers: target.headers, body })
  if (put.status !== 201) throw new Error(`upload PUT failed: ${put.status} ${await put.text()}`)
  const stored = since()
  const notify = await api.post("/v1/upload", { upload_id: target.upload_id })
  if (notify.status !== 204) throw new Error(`notify failed: ${notify.status} ${await notify.text()}`)
  let parsingSeen: number | undefined
  while (performance.now() - started < timeoutMs) {
    const view = (await (await api.get(`/v1/uploads/${target.upload_id}`)).json()) as UploadView
    if (view.status === "parsing") parsingSeen ??= since()
    if (view.status === "parsed") return { id: target.upload_id, seconds: since(), stored, parsingSeen, rowCount: view.row_count }
    if (view.status === "failed") throw new Error(`upload failed: ${view.failure_reason}`)
    await Bun.sleep(POLL_MS)
  }
  throw new Error(`upload ${target.upload_id} was not parsed within ${timeoutMs} ms`)
}

const pgScope = Effect.runSync(Scope.make())
let server: TestServer | undefined
let db: SQL | undefined
let worker: ReturnType<typeof spawnWorker> | undefined

try {
  const postgres = await Effect.runPromise(
    startEmbeddedPostgres({ databaseDir: join(dir, "pg"), port: await freePort(), persistent: false }).pipe(Scope.extend(pgScope)),
  )
  const admin = new SQL(postgres.url)
  await admin.unsafe("CREATE DATABASE bench_ingest")
  await admin.close()
  const databaseUrl = postgres.urlFor("bench_ingest")

  server = await startServer({ DATABASE_URL: databaseUrl, LOAD_CATALOGUE: "false", MAX_UPLOAD_BYTES: String(1024 * 1024 * 1024) })
  await seedDemo(databaseUrl)
  db = new SQL(databaseUrl)
  const api = await apiClient(server.url, "accountant@demo.scopeline.dev")

  const results: Array<{ rows: number; seconds: number; bare: number; copy: number; peak: number }> = []
  for (const rows of SIZES) {
    const uploadPath = join(dir, `activities-${rows}.csv`)
    const copyPath = join(dir, `copy-${rows}.csv`)
    const generatedAt = performance.now()
    const { bytes } = await writeActivityFiles(rows, uploadPath, copyPath)
    console.log(`\n${fmt(rows)} rows: generated ${fmt(bytes / 1e6, 1)} MB in ${fmt((performance.now() - generatedAt) / 1000, 1)} s`)

    // A fresh worker per size: VmHWM covers the process's whole life. A tiny upload first proves
    // it is up (migrations checked, consumers polling) and warms it, so start-up is not timed.
    worker = spawnWorker(server)
    const warm = await ingest(server, api, new Blob([`${HEADER}\nWarm-up electricity,1,kWh,2024-01-01,SG,electricity,W-1\n`]), 120_000)
    if (warm.rowCount !== 1) throw new Error("warm-up upload did not parse")
    const pid = worker.pid
    const idle = memoryOf(pid)?.rss ?? Number.NaN
    let sampledPeak = 0
    const sampler = setInterval(() => {
      const memory = memoryOf(pid)
      if (memory) sampledPeak = Math.max(sampledPeak, memory.rss)
    }, 50)

    await db`CHECKPOINT`
    const run = await ingest(server, api, Bun.file(uploadPath), 30 * 60_000).finally(() => clearInterval(sampler))
    const peak = memoryOf(pid)?.hwm ?? Number.NaN
    worker.kill("SIGTERM")
    await worker.exited
    worker = undefined
    if (run.rowCount !== rows) throw new Error(`expected ${rows} rows, the upload says ${run.rowCount}`)
    const [{ stored }] = await db`SELECT count(*)::int AS stored FROM activities WHERE upload_id = ${run.id}`
    if (stored !== rows) throw new Error(`expected ${rows} activities, found ${stored}`)

    // The floor: COPY of the same rows, in one statement (one transaction), into a table with the
    // columns, defaults, constraints (UNIQUE (upload_id, row_number)) and indexes of `activities`.
    // `withKeys` also adds its foreign keys (informational: the pipeline pays for them too).
    const timeCopy = async (withKeys: boolean) => {
      const table = `activities_copy_${rows}${withKeys ? "_fk" : ""}`
      await db!.unsafe(`CREATE TABLE ${table} (LIKE activities INCLUDING ALL)`)
      await db!.unsafe(`ALTER TABLE ${table} ALTER COLUMN upload_id SET DEFAULT '${run.id}'`)
      // The pipeline sends time-ordered ids (ActivitiesRepo.copyRows); a random default here would
      // make this floor slower than what the pipeline really pays.
      await db!.unsafe(`ALTER TABLE ${table} ALTER COLUMN id SET DEFAULT uuidv7()`)
      if (withKeys) {
        await db!.unsafe(`ALTER TABLE ${table} ADD FOREIGN KEY (upload_id) REFERENCES uploads(id),
                          ADD FOREIGN KEY (matched_factor_id) REFERENCES emission_factors(id)`)
      }
      await db!`CHECKPOINT`
      const copyStarted = performance.now()
      await db!.unsafe(`COPY ${table} (row_number, raw_description, raw_volume, raw_unit, activity_date, geography, category, reference)
                        FROM '${copyPath}' WITH (FORMAT csv, HEADER true)`)
      const seconds = (performance.now() - copyStarted) / 1000
      const [{ copied }] = await db!.unsafe(`SELECT count(*)::int AS copied FROM ${table}`)
      if (copied !== rows) throw new Error(`COPY loaded ${copied} rows, expected ${rows}`)
      await db!.unsafe(`DROP TABLE ${table}`)
      return seconds
    }
    // The bare floor: the file's columns into a table with nothing else — what loading the bytes
    // costs PostgreSQL at all, before any identifier, default, constraint or index.
    const timeBareCopy = async () => {
      const table = `activities_bare_${rows}`
      await db!.unsafe(`CREATE TABLE ${table} (row_number integer, raw_description text, raw_volume numeric, raw_unit text,
                          activity_date date, geography text, category text, reference text)`)
      await db!`CHECKPOINT`
      const copyStarted = performance.now()
      await db!.unsafe(`COPY ${table} FROM '${copyPath}' WITH (FORMAT csv, HEADER true)`)
      const seconds = (performance.now() - copyStarted) / 1000
      const [{ copied }] = await db!.unsafe(`SELECT count(*)::int AS copied FROM ${table}`)
      if (copied !== rows) throw new Error(`COPY loaded ${copied} rows, expected ${rows}`)
      await db!.unsafe(`DROP TABLE ${table}`)
      return seconds
    }
    const bare = await timeBareCopy()
    const copy = await timeCopy(false)
    const copyWithKeys = await timeCopy(true)

    const parse = run.seconds - run.stored
    console.log(
      `  pipeline ${fmt(run.seconds, 2)} s (${fmt(rows / run.seconds)} rows/s): PUT ${fmt(run.stored, 2)} s, notify → parsed ${fmt(parse, 2)} s` +
        (run.parsingSeen === undefined ? "" : ` (parsing seen at ${fmt(run.parsingSeen, 2)} s)`),
    )
    console.log(`  bare COPY ${fmt(bare, 2)} s (${fmt(rows / bare)} rows/s) → ${fmt(run.seconds / bare, 2)}× bare COPY (target ≤ 4)`)
    console.log(`  activities-shaped COPY ${fmt(copy, 2)} s (${fmt(rows / copy)} rows/s) → ${fmt(run.seconds / copy, 2)}× that COPY; with the foreign keys too: ${fmt(copyWithKeys, 2)} s`)
    console.log(`  worker peak RSS ${fmt(peak)} MB (VmHWM; sampled VmRSS max ${fmt(sampledPeak)} MB, ${fmt(idle)} MB idle before the upload; target ≤ 200)`)
    results.push({ rows, seconds: run.seconds, bare, copy, peak })
    rmSync(uploadPath, { force: true })
    rmSync(copyPath, { force: true })
  }

  console.log("")
  for (const r of results) {
    console.log(
      `${String(r.rows).padStart(8)} rows  ${r.seconds.toFixed(2).padStart(7)} s  ${String(Math.round(r.rows / r.seconds)).padStart(7)} rows/s  ` +
        `bare COPY ${r.bare.toFixed(2).padStart(6)} s  ${(r.seconds / r.bare).toFixed(2)}× bare  ` +
        `activities COPY ${r.copy.toFixed(2).padStart(6)} s  ${(r.seconds / r.copy).toFixed(2)}× activities COPY  peak RSS ${Math.round(r.peak)} MB`,
    )
  }
  const last = results[results.length - 1]!
  console.log(
    `ingest: ${last.rows} rows in ${last.seconds.toFixed(2)} s (${Math.round(last.rows / last.seconds)}/s), ${(last.seconds / last.bare).toFixed(2)}× bare COPY, ` +
      `${(last.seconds / last.copy).toFixed(2)}× activities COPY, peak RSS ${Math.round(last.peak)} MB`,
  )
} finally {
  if (worker) {
    worker.kill("SIGKILL")
    await worker.exited
  }
  await db?.close()
  await server?.stop()
  await Effect.runPromise(Scope.close(pgScope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
}
