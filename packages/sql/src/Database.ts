import { SqlError } from "@effect/sql/SqlError"
import { PgClient } from "@effect/sql-pg"
import Pg from "pg"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { StartupError } from "@scopeline/settings/StartupError"
import { Config, Duration, Effect, Layer, Option, Redacted, String } from "effect"
import { migrate } from "./Migrator.ts"
import { join } from "node:path"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.ts"
import { prepareRepeatedStatements, statementNamer } from "./PreparedStatements.ts"

/**
 * The embedded cluster of this checkout: data under DATA_DIR/postgres, on EMBEDDED_PG_PORT. Shared by
 * the dev launcher and by an app started without a database setting, so both report a busy port
 * the same way: one line naming the setting that moves it. In its own session, so that a Ctrl-C
 * stops the apps before the database they are still using.
 */
export const startConfiguredEmbeddedPostgres = (config: Pick<AppConfig, "dataDir" | "embeddedPgPort">) =>
  startEmbeddedPostgres({
    databaseDir: join(config.dataDir, "postgres"),
    port: config.embeddedPgPort,
    persistent: true,
    ownSession: true,
  }).pipe(
    Effect.catchTag("EmbeddedPostgresPortInUse", ({ port }) =>
      Effect.fail(
        new StartupError({
          message: `EMBEDDED_PG_PORT: port ${port} is already in use (another Scopeline or PostgreSQL?); stop that, or set EMBEDDED_PG_PORT to a free port`,
        }),
      ),
    ),
    Effect.catchTag("EmbeddedPostgresInUse", ({ launcherPid }) =>
      Effect.fail(
        new StartupError({
          message: `DATA_DIR: ${config.dataDir} is in use by another Scopeline run (process ${launcherPid}); stop that run, or set DATA_DIR to another folder`,
        }),
      ),
    ),
  )

/**
 * A renaming that remembers its answers. The client renames every key of every row it returns
 * (snake→camel), and `String.snakeToCamel` builds each name a character at a time: on a 25-row page
 * of 40 columns that was a tenth of the server's time per request (docs/benchmarks.md). Column names
 * are few; the bound is for the keys of JSON values, which are renamed too and can be anything.
 */
export const rememberRenames = (rename: (name: string) => string, limit = 10_000): ((name: string) => string) => {
  const renamed = new Map<string, string>()
  return (name) => {
    let out = renamed.get(name)
    if (out === undefined) {
      out = rename(name)
      if (renamed.size < limit) renamed.set(name, out)
    }
    return out
  }
}

const transformQueryNames = rememberRenames(String.camelToSnake)
const transformResultNames = rememberRenames(String.snakeToCamel)

/** How long the first connection may take before start-up gives up on the database. */
const CONNECT_TIMEOUT = Duration.seconds(5)

/**
 * The pool as `PgClient.layer` would build it (checked with one query, ended with the layer), with
 * the statements the app repeats sent as prepared statements (PreparedStatements.ts). A database that
 * cannot be reached, or does not answer within CONNECT_TIMEOUT, stops start-up with one line naming
 * the address and the settings (never the password), not a cause with a stack trace.
 */
const pooled = (config: Pg.PoolConfig, where: string) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.gen(function* () {
        const pool = new Pg.Pool({ max: 20, application_name: "scopeline", ...config })
        // An idle connection's error (the server restarting) is the pool's to replace, not a crash.
        pool.on("error", () => {})
        prepareRepeatedStatements(pool, statementNamer())
        yield* Effect.tryPromise({
          try: () => pool.query("SELECT 1"),
          catch: (cause) => new SqlError({ cause, message: `cannot connect to ${where}: ${cause instanceof Error ? cause.message : `${cause}`}` }),
        }).pipe(
          // The acquisition itself is uninterruptible; the check must not be, or the timeout could never end it.
          Effect.interruptible,
          Effect.timeoutFail({
            duration: CONNECT_TIMEOUT,
            onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: `no answer from ${where} within ${Duration.format(CONNECT_TIMEOUT)}` }),
          }),
          Effect.tapError(() => Effect.sync(() => void pool.end().catch(() => {}))),
        )
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000)),
    ),
    transformQueryNames,
    transformResultNames,
  }).pipe(
    Layer.mapError(
      (error) => new StartupError({ message: `database: ${error.message}; check DATABASE_URL (or PGHOST, PGPORT) and that PostgreSQL is running` }),
    ),
  )

/** host:port of a database URL, for messages: never its user or password. */
const addressOf = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}:${parsed.port || "5432"}`
  } catch {
    return "the database URL"
  }
}

const client = (url: string) => pooled({ connectionString: url }, addressOf(url))

/**
 * Connection settings in AWS mode: the ECS task gets PGHOST/PGPORT/PGDATABASE as plain settings and
 * PGUSER/PGPASSWORD from the Aurora master secret, so no URL with a password is ever stored.
 */
const fromPgSettings = Config.all({
  host: Config.string("PGHOST"),
  port: Config.port("PGPORT").pipe(Config.withDefault(5432)),
  database: Config.string("PGDATABASE").pipe(Config.withDefault("postgres")),
  user: Config.string("PGUSER"),
  password: Config.redacted("PGPASSWORD"),
  sslMode: Config.string("PGSSLMODE").pipe(Config.withDefault("prefer")),
})

/**
 * The SqlClient for every app: DATABASE_URL when set (Aurora, or the cluster the dev launcher
 * started), otherwise an embedded PostgreSQL under DATA_DIR owned by this process.
 */
export const DatabaseLive = Layer.unwrapScoped(
  Effect.gen(function* () {
    const config = yield* AppConfig
    if (Option.isSome(config.databaseUrl)) return client(Redacted.value(config.databaseUrl.value))
    const pg = yield* Config.option(fromPgSettings)
    if (Option.isSome(pg)) {
      const { host, port, database, user, password, sslMode } = pg.value
      return pooled(
        {
          host,
          port,
          database,
          user,
          password: Redacted.value(password),
          ssl: sslMode === "require" ? { rejectUnauthorized: false } : undefined,
        },
        `${host}:${port}`,
      )
    }
    const running = yield* startConfiguredEmbeddedPostgres(config)
    return client(running.url)
  }),
)

/** The database, migrated before anything uses it (an advisory lock serialises concurrent starts). */
export const MigratedDatabaseLive = Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(DatabaseLive))
