import { SqlClient } from "@effect/sql"
import { Data, Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

export class MigrationError extends Data.TaggedError("MigrationError")<{ readonly message: string }> {}

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
  readonly checksum: string
}

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../migrations", import.meta.url))

/** `0007_add_match_cache.sql` → version 7. Files not following the pattern are ignored. */
export const readMigrations = (dir: string = MIGRATIONS_DIR): ReadonlyArray<Migration> =>
  readdirSync(dir)
    .flatMap((file) => {
      const match = /^(\d+)_(.+)\.sql$/.exec(file)
      if (!match) return []
      const sql = readFileSync(`${dir}/${file}`, "utf8")
      const checksum = new Bun.CryptoHasher("sha256").update(sql).digest("hex")
      return [{ version: Number(match[1]), name: match[2]!, sql, checksum }]
    })
    .sort((a, b) => a.version - b.version)

// Any constant works; it only has to be the same for every process that migrates this database.
const MIGRATION_LOCK = 7_301_914

/**
 * Applies pending migrations in order, each exactly once, recording them in `schema_migrations`.
 * Everything runs in one transaction under an advisory lock, so processes starting together
 * (server and worker) never race, and a failing migration leaves the schema untouched.
 */
export const migrate = (dir?: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const migrations = readMigrations(dir)
    const applied = yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
        yield* sql`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INTEGER PRIMARY KEY,
          name TEXT NOT NULL,
          checksum TEXT NOT NULL,
          applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )`
        const done = yield* sql<{ version: number; checksum: string }>`SELECT version, checksum FROM schema_migrations`
        const doneByVersion = new Map(done.map((row) => [row.version, row.checksum]))
        const newlyApplied: Array<string> = []
        for (const migration of migrations) {
          const checksum = doneByVersion.get(migration.version)
          if (checksum !== undefined) {
            if (checksum !== migration.checksum) {
              return yield* new MigrationError({
                message: `migration ${migration.version} (${migration.name}) was changed after it was applied; add a new migration instead`,
              })
            }
            continue
          }
          yield* sql.unsafe(migration.sql).pipe(
            Effect.mapError(
              (error) =>
                new MigrationError({ message: `migration ${migration.version} (${migration.name}) failed: ${error.message}` }),
            ),
          )
          yield* sql`INSERT INTO schema_migrations ${sql.insert({
            version: migration.version,
            name: migration.name,
            checksum: migration.checksum,
          })}`
          newlyApplied.push(`${migration.version}_${migration.name}`)
        }
        return newlyApplied
      }),
    )
    if (applied.length > 0) yield* Effect.logInfo("migrations applied").pipe(Effect.annotateLogs({ applied }))
    return applied
  }).pipe(Effect.withSpan("Migrator.migrate"))
