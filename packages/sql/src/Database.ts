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

/**
 * The pool as `PgClient.layer` would build it (checked with one query, ended with the layer), with
 * the statements the app repeats sent as prepared statements (PreparedStatements.ts).
 */
const pooled = (config: Pg.PoolConfig) =>
  PgClient.layerFromPool({
    acquire: Effect.acquireRelease(
      Effect.gen(function* () {
        const pool = new Pg.Pool({ max: 20, application_name: "scopeline", ...config })
        // An idle connection's error (the server restarting) is the pool's to replace, not a crash.
        pool.on("error", () => {})
        prepareRepeatedStatements(pool, statementNamer())
        yield* Effect.tryPromise({
          try: () => pool.query("SELECT 1"),
          catch: (cause) => new SqlError({ cause, message: "PgClient: Failed to connect" }),
        }).pipe(
          Effect.timeoutFail({
            duration: Duration.seconds(5),
            onTimeout: () => new SqlError({ cause: new Error("Connection timed out"), message: "PgClient: Connection timed out" }),
          }),
          Effect.tapError(() => Effect.promise(() => pool.end())),
        )
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption(1000)),
    ),
    transformQueryNames,
    transformResultNames,
  })

const client = (url: string) => pooled({ connectionString: url })

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
      return pooled({
        host,
        port,
        database,
        user,
        password: Redacted.value(password),
        ssl: sslMode === "require" ? { rejectUnauthorized: false } : undefined,
      })
    }
    const running = yield* startConfiguredEmbeddedPostgres(config)
    return client(running.url)
  }),
)

/** The database, migrated before anything uses it (an advisory lock serialises concurrent starts). */
export const MigratedDatabaseLive = Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(DatabaseLive))
