import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { DatabaseLive } from "@scopeline/sql/Database"
import { statementNamer } from "@scopeline/sql/PreparedStatements"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { Chunk, Effect, Layer, ManagedRuntime, Stream } from "effect"
import { configLayer, testSettings } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"

const limits = { maxStatements: 3, minUses: 3, maxTextLength: 100, maxCounted: 60 }

describe("statementNamer", () => {
  test("names a statement on its third use and keeps that name", () => {
    const nameFor = statementNamer(limits)
    const text = "SELECT * FROM users WHERE id = $1"
    expect([nameFor(text), nameFor(text)]).toEqual([undefined, undefined])
    const name = nameFor(text)
    expect(name).toBeString()
    expect(nameFor(text)).toBe(name)
    expect(nameFor("SELECT * FROM sites WHERE id = $1")).toBeUndefined()
  })

  test("leaves what a prepared statement cannot carry or would not plan unnamed", () => {
    const nameFor = statementNamer(limits)
    const repeated = (text: string) => [nameFor(text), nameFor(text), nameFor(text)].at(-1)
    expect(repeated("SELECT 1; SELECT 2")).toBeUndefined()
    expect(repeated("CREATE TABLE t (id int)")).toBeUndefined()
    expect(repeated("BEGIN")).toBeUndefined()
    expect(repeated(`SELECT '${"x".repeat(100)}'`)).toBeUndefined()
    expect(repeated("  with recent AS (SELECT 1) SELECT * FROM recent")).toBeString()
    expect(repeated("UPDATE sites SET name = $1 WHERE id = $2")).toBeString()
  })

  test("prepares at most maxStatements texts", () => {
    const nameFor = statementNamer(limits)
    const repeated = (text: string) => [nameFor(text), nameFor(text), nameFor(text)].at(-1)
    const names = ["a", "b", "c"].map((table) => repeated(`SELECT * FROM ${table}`))
    expect(new Set(names).size).toBe(3)
    expect(repeated("SELECT * FROM d")).toBeUndefined()
    expect(nameFor("SELECT * FROM a")).toBe(names[0])
  })

  test("forgets the counts of unprepared texts once their characters pass maxCounted", () => {
    const nameFor = statementNamer(limits)
    const text = "SELECT * FROM a"
    nameFor(text)
    nameFor(text)
    // Four texts of 15 characters fill the 60; the fifth starts the counts over.
    for (const table of ["b", "c", "d"]) nameFor(`SELECT * FROM ${table}`)
    expect(nameFor(text)).toBeString()
    const other = "SELECT * FROM f"
    nameFor(other)
    nameFor(other)
    for (const table of ["g", "h", "i", "j"]) nameFor(`SELECT * FROM ${table}`)
    expect(nameFor(other)).toBeUndefined()
  })
})

describe("the app's database client", () => {
  let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>

  beforeAll(async () => {
    const url = await testDatabase()
    const settings = configLayer(testSettings({ DATABASE_URL: url }))
    runtime = ManagedRuntime.make(DatabaseLive.pipe(Layer.provide(AppConfig.Default), Layer.provide(settings), Layer.orDie))
  })
  afterAll(async () => {
    await runtime?.dispose()
  })

  const run = <A>(effect: Effect.Effect<A, unknown, SqlClient.SqlClient>) => runtime.runPromise(Effect.orDie(effect))

  test("sends a repeated statement as a prepared statement on its connection", async () => {
    const prepared = await run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        // One transaction: one connection, whose own prepared statements the view lists.
        return yield* sql.withTransaction(
          Effect.gen(function* () {
            for (let i = 0; i < 3; i++) yield* sql`SELECT ${i}::int + 1 AS n`
            return yield* sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`
          }),
        )
      }),
    )
    expect(prepared.map((row) => row.statement)).toContain("SELECT $1::int + 1 AS n")
  })

  test("still runs several statements in one text, and streams through a cursor, however often repeated", async () => {
    const results = await run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const out: Array<number> = []
        yield* sql`CREATE TABLE scratch (n int)`
        for (let i = 0; i < 4; i++) {
          yield* sql.unsafe("INSERT INTO scratch VALUES (1); INSERT INTO scratch VALUES (2)")
          const streamed = yield* Stream.runCollect(sql`SELECT n FROM generate_series(1, ${300}) AS n`.stream)
          out.push(Chunk.size(streamed))
        }
        const rows = (yield* sql<{ rows: number }>`SELECT count(*)::int AS rows FROM scratch`)[0]!.rows
        return { out, rows }
      }),
    )
    expect(results).toEqual({ out: [300, 300, 300, 300], rows: 8 })
  })

  test("a prepared statement whose result changed shape under it fails once, then works again", async () => {
    const outcomes = await run(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE TABLE reshaped (a int)`
        yield* sql`INSERT INTO reshaped VALUES (1)`
        const read = sql<{ a: unknown }>`SELECT * FROM reshaped WHERE a IS NOT NULL OR ${true}`.pipe(
          Effect.map((rows) => typeof rows[0]!.a),
          Effect.catchAll((error) => Effect.succeed(String(error.cause))),
        )
        // Run one after the other, the statements share one connection (the pool's most recently released).
        const before = [yield* read, yield* read, yield* read, yield* read]
        // What a newer release's migration, run by another process, could do.
        yield* sql`ALTER TABLE reshaped ALTER COLUMN a TYPE text`
        const after = [yield* read, yield* read, yield* read]
        return { before, after }
      }),
    )
    expect(outcomes.before).toEqual(["number", "number", "number", "number"])
    expect(outcomes.after[0]).toContain("cached plan must not change result type")
    expect(outcomes.after.slice(1)).toEqual(["string", "string"])
  })
})
