import { PgClient } from "@effect/sql-pg"
import { AppConfig } from "@scopeline/config/AppConfig"
import { Effect, Layer, Option, Redacted, String } from "effect"
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
 * The SqlClient for every app: DATABASE_URL when set (Aurora, or the cluster the dev launcher
 * started), otherwise an embedded PostgreSQL under DATA_DIR owned by this process.
 */
export const DatabaseLive = Layer.unwrapScoped(
  Effect.gen(function* () {
    const config = yield* AppConfig
    if (Option.isSome(config.databaseUrl)) return client(Redacted.value(config.databaseUrl.value))
    const running = yield* startEmbeddedPostgres({
      databaseDir: join(config.dataDir, "postgres"),
      port: EMBEDDED_PORT,
      persistent: true,
    })
    return client(running.url)
  }),
)
