/**
 * What the HTTP benchmarks share: a throw-away PostgreSQL, the real server as its own process (as in
 * production), the trivial Elysia route they are held against, autocannon as the load generator, and
 * the server's CPU time from /proc.
 */
import { freePort, startEmbeddedPostgres } from "@scopeline/sql/EmbeddedPostgres"
import { SQL } from "bun"
import { Effect, Exit, Scope } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

export const root = join(import.meta.dir, "../..")

export const waitFor = async (url: string) => {
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return
    await Bun.sleep(100)
  }
  throw new Error(`${url} did not answer`)
}

export interface LoadResult {
  readonly requests: { readonly average: number; readonly total: number }
  readonly latency: { readonly p50: number; readonly p99: number; readonly average: number }
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

/**
 * autocannon under Node, as its own process: it never shares an event loop with a server. Its JSON
 * report (`-j`) is read from stdout.
 */
export const load = async (
  url: string,
  options: { readonly headers?: Record<string, string>; readonly seconds: number; readonly connections: number },
): Promise<LoadResult> => {
  const args = ["node", join(root, "node_modules/autocannon/autocannon.js"), "-c", String(options.connections), "-d", String(options.seconds), "-j"]
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}=${value}`)
  const child = Bun.spawn([...args, url], { stdout: "pipe", stderr: "ignore" })
  const out = await new Response(child.stdout).text()
  if ((await child.exited) !== 0) throw new Error(`autocannon failed: ${out.slice(0, 500)}`)
  return JSON.parse(out) as LoadResult
}

/** One autocannon result as a line of the report. */
export const loadLine = (name: string, r: LoadResult) =>
  `${name.padEnd(34)} ${Math.round(r.requests.average).toLocaleString("en-US").padStart(8)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  ` +
  `non-2xx ${r.non2xx}  errors ${r.errors}  timeouts ${r.timeouts}`

/**
 * CPU seconds a process has used (user + system, Linux's /proc; NaN elsewhere). Per request, it holds
 * up better than requests/s on a machine shared with other work: waiting for a core costs no CPU.
 */
export const cpuSeconds = (pid: number): number => processStat(pid)?.cpuSeconds ?? Number.NaN

/** A process's parent and CPU seconds from /proc/<pid>/stat; undefined once it has exited. */
const processStat = (pid: number | string) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    // USER_HZ, 100 on Linux; the last two are the children it has reaped (exited and waited for).
    return { parent: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100, reapedSeconds: (Number(fields[13]) + Number(fields[14])) / 100 }
  } catch {
    return undefined
  }
}

/**
 * CPU seconds of the PostgreSQL cluster in `dataDir`: its postmaster, every process it forked that is
 * running now, and those that have exited (a pooled connection closed when idle, an autovacuum
 * worker), which the kernel adds to the postmaster's children's time once it reaps them.
 */
export const postgresCpuSeconds = (dataDir: string): number => {
  const postmaster = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0])
  const own = processStat(postmaster)
  let total = own === undefined ? Number.NaN : own.cpuSeconds + own.reapedSeconds
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const stat = processStat(entry)
    if (stat?.parent === postmaster) total += stat.cpuSeconds
  }
  return total
}

/** The data directory of the cluster `startBenchDatabase` starts in `dir`. */
export const benchDatabaseDir = (dir: string) => join(dir, "pg")

/**
 * A PostgreSQL cluster in `dir` with one empty database; the scope's closing stops it and deletes its
 * data directory.
 */
export const startBenchDatabase = async (scope: Scope.Scope, dir: string, database: string) => {
  const postgres = await Effect.runPromise(
    startEmbeddedPostgres({ databaseDir: benchDatabaseDir(dir), port: await freePort(), persistent: false }).pipe(Scope.extend(scope)),
  )
  const admin = new SQL(postgres.url)
  await admin.unsafe(`CREATE DATABASE ${database}`)
  await admin.close()
  return postgres.urlFor(database)
}

/** A scope for `startBenchDatabase`, closed by `closeBenchScope`. */
export const benchScope = () => Effect.runSync(Scope.make())
export const closeBenchScope = (scope: Scope.CloseableScope) => Effect.runPromise(Scope.close(scope, Exit.void))

export interface ServerProcess {
  readonly url: string
  readonly child: ReturnType<typeof Bun.spawn>
}

/**
 * `apps/server/src/main.ts` as its own process, migrating `databaseUrl` and loading the catalogue at
 * start. `profileDir` runs it under `bun --cpu-prof --cpu-prof-md`: stopped with SIGTERM, it writes a
 * .cpuprofile and a markdown summary there.
 */
export const spawnServer = async (options: { readonly databaseUrl: string; readonly dataDir: string; readonly profileDir?: string | undefined }): Promise<ServerProcess> => {
  const port = await freePort()
  const child = Bun.spawn(
    ["bun", ...(options.profileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${options.profileDir}`] : []), "apps/server/src/main.ts"],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        DATABASE_URL: options.databaseUrl,
        PORT: String(port),
        DATA_DIR: options.dataDir,
        JWT_SECRET: "bench-secret-that-is-long-enough-for-hs256-0123456789",
        LOG_LEVEL: "Error",
      },
      stdout: "ignore",
      stderr: "inherit",
    },
  )
  return { url: `http://127.0.0.1:${port}`, child }
}

/** `bench/lib/trivialServer.ts` on a free port: the ceiling the real API is held against. */
export const spawnTrivialServer = async () => {
  const port = await freePort()
  const child = Bun.spawn(["bun", "bench/lib/trivialServer.ts"], { cwd: root, env: { ...process.env, PORT: String(port) }, stdout: "ignore", stderr: "inherit" })
  return { url: `http://127.0.0.1:${port}/hello`, child }
}

/** The catalogue's factors, once the server has loaded them (it does so at start, after listening). */
export const waitForCatalogue = async (db: SQL) => {
  for (let i = 0; i < 600; i++) {
    const [row] = await db`SELECT count(*)::int AS n FROM emission_factors`
    if ((row as { n: number }).n > 0) return
    await Bun.sleep(100)
  }
  throw new Error("the server loaded no catalogue")
}
