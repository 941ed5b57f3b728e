import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { retryDeadlocks } from "@scopeline/sql/Deadlocks"
import { Deferred, Effect, Layer, ManagedRuntime } from "effect"
import { configLayer, testSettings } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { sqlLayer } from "../support/seed.ts"

/**
 * Two transactions that lock the same two rows in opposite orders, on a real PostgreSQL: it aborts one
 * of them (SQLSTATE 40P01). Retried as a whole, both commit.
 */
let runtime: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, never>

beforeAll(async () => {
  const url = await testDatabase()
  runtime = ManagedRuntime.make(sqlLayer(url).pipe(Layer.provide(configLayer(testSettings())), Layer.orDie))
  await runtime.runPromise(
    Effect.flatMap(SqlClient.SqlClient, (sql) =>
      Effect.andThen(sql`CREATE TABLE cells (id INT PRIMARY KEY, n INT NOT NULL)`, sql`INSERT INTO cells VALUES (1, 0), (2, 0)`),
    ),
  )
})
afterAll(async () => {
  await runtime?.dispose()
})

/** Adds one to both rows, `first` then the other, waiting for the other transaction between the two. */
const crossing = (first: 1 | 2, locked: Deferred.Deferred<void>, otherLocked: Deferred.Deferred<void>, attempts: { n: number }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        attempts.n++
        yield* sql`UPDATE cells SET n = n + 1 WHERE id = ${first}`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(otherLocked)
        yield* sql`UPDATE cells SET n = n + 1 WHERE id = ${3 - first}`
      }),
    )
  })

const run = (wrap: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE cells SET n = 0`
    const [a, b] = [yield* Deferred.make<void>(), yield* Deferred.make<void>()]
    const attempts = { a: { n: 0 }, b: { n: 0 } }
    const outcomes = yield* Effect.all(
      [Effect.either(wrap(crossing(1, a, b, attempts.a))), Effect.either(wrap(crossing(2, b, a, attempts.b)))],
      { concurrency: 2 },
    )
    const rows = yield* sql<{ n: number }>`SELECT n FROM cells ORDER BY id`
    return { outcomes: outcomes.map((o) => o._tag), totals: rows.map((row) => row.n), attempts: attempts.a.n + attempts.b.n }
  })

describe("transactions that deadlock", () => {
  test("without the retry, PostgreSQL aborts one of them and its change is lost", async () => {
    const result = await runtime.runPromise(run((effect) => effect))
    expect(result.outcomes.sort()).toEqual(["Left", "Right"])
    expect(result.totals).toEqual([1, 1])
  })

  test("retried as a whole, both commit: every row counts both changes", async () => {
    const result = await runtime.runPromise(run(retryDeadlocks))
    expect(result.outcomes).toEqual(["Right", "Right"])
    expect(result.totals).toEqual([2, 2])
    expect(result.attempts).toBe(3)
  })
})
