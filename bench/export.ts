/**
 * Export benchmark: activities written to CSV and XLSX by the real worker (a separate process, as in
 * production) from the `export` queue, keyset page by page into the local blob store, timed from
 * POST /v1/exports until GET /v1/exports/:id says `ready`. Memory is the worker's VmHWM (the kernel's
 * high-water mark), one fresh worker per run: flat means about the same for 10,000 and 100,000 rows.
 *
 *   bun bench/export.ts            (EXPORT_SIZES=100000 bun bench/export.ts for one size)
 */
import { freePort, startEmbeddedPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { SQL } from "bun"
import { Effect, Exit, Scope } from "effect"
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { apiClient, type ApiClient } from "../test/support/api.ts"
import { seedDemo } from "../test/support/seed.ts"
import { startServer, type TestServer } from "../test/support/server.ts"

const SIZES = (process.env.EXPORT_SIZES ?? "10000,100000").split(",").map(Number)
const FORMATS = ["csv", "xlsx"] as const
const root = join(import.meta.dir, "..")
const dir = mkdtempSync("/tmp/scopeline-bench-export-")
chmodSync(dir, 0o755)

const memoryOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? "NaN")
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 }
}

const spawnWorker = (server: TestServer) =>
  Bun.spawn(["bun", "apps/worker/src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...server.settings, LOG_LEVEL: "Warn", WORKER_QUEUES: "export" },
    stdin: "pipe",
    stdout: "inherit",
    stderr: "inherit",
  })

const exportOnce = async (api: ApiClient, body: unknown) => {
  const started = performance.now()
  const response = await api.post("/v1/exports", body)
  if (response.status !== 202) throw new Error(`export request: ${response.status} ${await response.text()}`)
  const { export: created } = (await response.json()) as { export: { id: string } }
  while (true) {
    const view = (await (await api.get(`/v1/exports/${created.id}`)).json()) as { status: string; rows_written: number }
    if (view.status === "ready") return { seconds: (performance.now() - started) / 1000, rows: view.rows_written }
    if (view.status === "failed") throw new Error("export failed")
    await Bun.sleep(100)
  }
}

const pgScope = Effect.runSync(Scope.make())
let server: TestServer | undefined
try {
  const postgres = await Effect.runPromise(
    startEmbeddedPostgres({ databaseDir: join(dir, "pg"), port: await freePort(), persistent: false }).pipe(Scope.extend(pgScope)),
  )
  const admin = new SQL(postgres.url)
  await admin.unsafe("CREATE DATABASE bench_export")
  await admin.close()
  const databaseUrl = postgres.urlFor("bench_export")
  server = await startServer({ DATABASE_URL: databaseUrl, LOAD_CATALOGUE: "false" })
  await seedDemo(databaseUrl)
  const api = await apiClient(server.url, "accountant@demo.scopeline.dev")
  const sql = new SQL(databaseUrl)
  const [factor] = (await sql`
    INSERT INTO emission_factors (name, activity_type, unit, factor_value, factor_unit, source, source_id, year, geography, scope,
      co2_factor, ch4_factor, n2o_factor)
    VALUES ('Diesel', 'Fuels', 'litres', 2.51279, 'kg CO2e', 'DESNZ', 'bench', 2023, 'GB', 'Scope 1', 2.4, 0.01, 0.03)
    RETURNING id::text AS id`) as Array<{ id: string }>
  const [user] = (await sql`SELECT id::text AS id FROM users WHERE email = 'accountant@demo.scopeline.dev'`) as Array<{ id: string }>

  console.log("| rows | format | time | rows/s | file | worker peak RSS (idle) |")
  console.log("| --- | --- | --- | --- | --- | --- |")
  for (const size of SIZES) {
    const upload = crypto.randomUUID()
    await sql`INSERT INTO uploads (id, accountant, s3_object_url, status) VALUES (${upload}, ${user!.id}, ${`uploads/${upload}.csv`}, 'parsed')`
    // Realistic rows: varied descriptions, a few hostile ones, the file's own columns, priced with gas parts.
    await sql`
      INSERT INTO activities (upload_id, row_number, raw_description, raw_volume, raw_unit, activity_date, status, matched_factor_id,
        factor_confidence, emissions, emissions_unit, emissions_co2, emissions_ch4, emissions_n2o, match_source, category, extra)
      SELECT ${upload}::uuid, n + 1, CASE WHEN n % 100 = 0 THEN '=HYPERLINK("x") ' || n ELSE 'Diesel for delivery van ' || (n % 977) END,
        (n % 5000) + 0.5, 'litres', date '2024-01-01' + (n % 365), 'calculated', ${factor!.id}::uuid, 0.9,
        ((n % 5000) + 0.5) * 2.51279, 'kg CO2e', ((n % 5000) + 0.5) * 2.4, ((n % 5000) + 0.5) * 0.01, ((n % 5000) + 0.5) * 0.03,
        'ai', 'fleet', jsonb_build_object('site', 'Depot ' || (n % 17), 'cost_centre', 'CC-' || (n % 31))
      FROM generate_series(1, ${size}) AS n`
    for (const format of FORMATS) {
      const worker = spawnWorker(server)
      try {
        // A one-row export first: the worker is up, the queue consumer running, the code loaded.
        await exportOnce(api, { format, kind: "activities", filters: { upload_id: upload, from: "2024-01-01", to: "2024-01-01" } })
        const idle = memoryOf(worker.pid).rss
        const run = await exportOnce(api, { format, kind: "activities", filters: { upload_id: upload } })
        const peak = memoryOf(worker.pid).hwm
        const [file] = (await sql`SELECT size_bytes::text AS size FROM exports ORDER BY created_at DESC LIMIT 1`) as Array<{ size: string }>
        console.log(
          `| ${size.toLocaleString("en-US")} | ${format} | ${run.seconds.toFixed(2)} s | ${Math.round(run.rows / run.seconds).toLocaleString("en-US")} | ` +
            `${(Number(file!.size) / 1024 / 1024).toFixed(1)} MB | ${peak.toFixed(0)} MB (${idle.toFixed(0)} MB) |`,
        )
      } finally {
        worker.kill()
        await worker.exited
      }
    }
  }
  await sql.close()
} finally {
  await server?.stop()
  await Effect.runPromise(Scope.close(pgScope, Exit.void))
  rmSync(dir, { recursive: true, force: true })
}
