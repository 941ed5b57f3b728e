import { PgClient } from "@effect/sql-pg"
import { AppConfig } from "@scopeline/config/AppConfig"
import { Config, Effect, Layer, Option, Redacted, String } from "effect"
import { migrate } from "./Migrator.ts"
import { join } from "node:path"
import { startEmbeddedPostgres } from "./EmbeddedPostgres.ts"

/** Default port of the embedded cluster: off 5432 so it never collides with a system PostgreSQL. */
export const EMBEDDED_PORT = 54329

const client = (url: string) =>
  PgClient.layer({
    url: Redacted.make(url),
    maxConnections: 20,
    transformQueryNames: String.camelToSnake,
    transformResultNames: String.snakeToCamel,
  })

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
      return PgClient.layer({
        host,
        port,
        database,
        username: user,
        password,
        ssl: sslMode === "require" ? { rejectUnauthorized: false } : undefined,
        maxConnections: 20,
        transformQueryNames: String.camelToSnake,
        transformResultNames: String.snakeToCamel,
      })
    }
    const running = yield* startEmbeddedPostgres({
      databaseDir: join(config.dataDir, "postgres"),
      port: EMBEDDED_PORT,
      persistent: true,
    })
    return client(running.url)
  }),
)

/** The database, migrated before anything uses it (an advisory lock serialises concurrent starts). */
export const MigratedDatabaseLive = Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(DatabaseLive))
