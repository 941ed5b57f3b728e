import { afterAll, beforeAll, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { ApiKeys, Principal } from "@scopeline/accounts"
import { AuditLog } from "@scopeline/events"
import { migrate } from "@scopeline/sql/Migrator"
import { SQL } from "bun"
import { Effect, Layer, ManagedRuntime, Option } from "effect"
import { configLayer, testSettings } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"

/** Statements ApiKeys sent through the client (every `sql` template it runs is one call of the client). */
let statements = 0

const makeRuntime = (databaseUrl: string) => {
  const counting = Layer.effect(
    SqlClient.SqlClient,
    Effect.map(SqlClient.SqlClient, (real) =>
      new Proxy(real, {
        apply: (target, self, args) => {
          statements += 1
          return Reflect.apply(target, self, args)
        },
      }),
    ),
  )
  return ManagedRuntime.make(
    ApiKeys.Default.pipe(
      Layer.provide(counting),
      Layer.provideMerge(AuditLog.Default),
      Layer.provideMerge(Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(databaseUrl)))),
      Layer.provide(configLayer(testSettings())),
      Layer.orDie,
    ),
  )
}
let runtime: ReturnType<typeof makeRuntime>
let db: SQL
let admin: Principal

beforeAll(async () => {
  const databaseUrl = await testDatabase()
  runtime = makeRuntime(databaseUrl)
  await runtime.runPromise(Effect.void)
  await seedDemo(databaseUrl)
  db = new SQL(databaseUrl)
  const [row] = await db`SELECT id FROM users WHERE email = 'admin@demo.scopeline.dev'`
  admin = new Principal({ userId: row.id, role: "admin" })
})
afterAll(async () => {
  await db?.close()
  await runtime?.dispose()
})

test("a key's call costs one statement while its use mark is recent, and writes the mark when it is missing or a minute old", async () => {
  const { key, secret } = await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.create(admin, { name: "counted", scopes: ["measurements:write"] })))
  const authenticate = async () => {
    statements = 0
    const found = await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.authenticate(secret)))
    expect(Option.isSome(found) && found.value.id).toBe(key.id)
    return statements
  }
  const mark = async () => ((await db`SELECT last_used_at FROM api_keys WHERE id = ${key.id}`)[0] as { last_used_at: Date | null }).last_used_at
  // Never used: the look-up and the mark.
  expect(await authenticate()).toBe(2)
  const first = await mark()
  expect(first).not.toBeNull()
  // Marked a moment ago: the look-up alone, and the mark stays.
  expect(await authenticate()).toBe(1)
  expect(await authenticate()).toBe(1)
  expect(await mark()).toEqual(first)
  // A mark a minute old (the database's clock decides, as it writes the mark) is written again.
  await db`UPDATE api_keys SET last_used_at = now() - interval '61 seconds' WHERE id = ${key.id}`
  expect(await authenticate()).toBe(2)
  expect((await mark())!.getTime()).toBeGreaterThan(first!.getTime())
})

test("a revoked key is not found, and costs no mark", async () => {
  const { key, secret } = await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.create(admin, { name: "revoked", scopes: ["measurements:write"] })))
  await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.revoke(admin, key.id)))
  statements = 0
  expect(Option.isNone(await runtime.runPromise(Effect.flatMap(ApiKeys, (keys) => keys.authenticate(secret))))).toBe(true)
  expect(statements).toBe(1)
  expect(((await db`SELECT last_used_at FROM api_keys WHERE id = ${key.id}`)[0] as { last_used_at: Date | null }).last_used_at).toBeNull()
})
