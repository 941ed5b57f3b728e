import { migrate, readMigrations } from "@scopeline/sql/Migrator"
import { SqlClient } from "@effect/sql"
import { describe, expect, test } from "bun:test"
import { Effect } from "effect"
import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runWith } from "../support/effect.ts"
import { testDatabase } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"

const versions = readMigrations().map((m) => `${m.version}_${m.name}`)

describe("migrations", () => {
  test("apply every file once, in order, and record each", async () => {
    const run = runWith(sqlLayer(await testDatabase()))
    const first = await run(migrate())
    expect(first).toEqual(versions)
    const recorded = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ version: number }>`SELECT version FROM schema_migrations ORDER BY version`),
    )
    expect(recorded.map((r) => r.version)).toEqual(readMigrations().map((m) => m.version))
  })

  test("applied twice are a no-op", async () => {
    const run = runWith(sqlLayer(await testDatabase()))
    await run(migrate())
    expect(await run(migrate())).toEqual([])
  })

  test("processes starting together migrate once between them", async () => {
    const run = runWith(sqlLayer(await testDatabase()))
    const results = await Promise.all([run(migrate()), run(migrate()), run(migrate())])
    expect(results.flat().sort()).toEqual([...versions].sort())
  })

  test("refuse to run when an applied migration was edited", async () => {
    const dir = mkdtempSync(join(tmpdir(), "migrations-"))
    cpSync(join(import.meta.dir, "../../migrations"), dir, { recursive: true })
    const run = runWith(sqlLayer(await testDatabase()))
    await run(migrate(dir))
    writeFileSync(join(dir, "0001_seed_schema.sql"), "-- edited\n", { flag: "a" })
    const error = await run(Effect.flip(migrate(dir)))
    expect(error._tag).toBe("MigrationError")
    expect(String((error as { message: string }).message)).toContain("was changed after it was applied")
  })

  test("a failing migration leaves the schema untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "migrations-"))
    cpSync(join(import.meta.dir, "../../migrations"), dir, { recursive: true })
    writeFileSync(join(dir, "9999_broken.sql"), "CREATE TABLE will_not_exist (id int); SELECT * FROM no_such_table;")
    const run = runWith(sqlLayer(await testDatabase()))
    const error = await run(Effect.flip(migrate(dir)))
    expect(String((error as { message: string }).message)).toContain("9999 (broken) failed")
    const tables = await run(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT to_regclass('public.will_not_exist') AS t, to_regclass('public.users') AS u`),
    )
    expect(tables[0]).toEqual({ t: null, u: null })
  })
})
