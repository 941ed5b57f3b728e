import { afterAll, beforeAll, expect, test } from "bun:test"
import { ApiKeys, Authentication, currentUser, Principal, signedIn, Tokens, UsersRepo } from "@scopeline/accounts"
import { LoginThrottle } from "@scopeline/accounts/LoginThrottle"
import { SessionRevocations } from "@scopeline/accounts/SessionRevocations"
import { AuditLog } from "@scopeline/events"
import { Passwords } from "@scopeline/identity/Passwords"
import { migrate } from "@scopeline/sql/Migrator"
import { SQL } from "bun"
import { Effect, Layer, ManagedRuntime } from "effect"
import { configLayer, testSettings } from "../support/config.ts"
import { testDatabase } from "../support/postgres.ts"
import { seedDemo, sqlLayer } from "../support/seed.ts"

/** Every read of an account through UsersRepo, by method. */
const reads = { findSession: 0, findById: 0 }

const makeRuntime = (databaseUrl: string) => {
  const countingUsers = Layer.effect(
    UsersRepo,
    Effect.gen(function* () {
      const real = yield* UsersRepo
      return UsersRepo.make({
        ...real,
        findSession: (id, tokenId) => Effect.suspend(() => ((reads.findSession += 1), real.findSession(id, tokenId))),
        findById: (id) => Effect.suspend(() => ((reads.findById += 1), real.findById(id))),
      })
    }),
  ).pipe(Layer.provide(UsersRepo.Default))
  return ManagedRuntime.make(
    Authentication.DefaultWithoutDependencies.pipe(
      Layer.provideMerge(Layer.mergeAll(countingUsers, Passwords.Default, LoginThrottle.Default, Tokens.Default, SessionRevocations.Default, ApiKeys.Default)),
      Layer.provideMerge(AuditLog.Default),
      Layer.provideMerge(Layer.effectDiscard(migrate()).pipe(Layer.provideMerge(sqlLayer(databaseUrl)))),
      Layer.provide(configLayer(testSettings())),
      Layer.orDie,
    ),
  )
}
let runtime: ReturnType<typeof makeRuntime>
let token: string

beforeAll(async () => {
  const databaseUrl = await testDatabase()
  runtime = makeRuntime(databaseUrl)
  await runtime.runPromise(Effect.void)
  await seedDemo(databaseUrl)
  const db = new SQL(databaseUrl)
  const [admin] = await db`SELECT id FROM users WHERE email = 'admin@demo.scopeline.dev'`
  await db.close()
  token = await runtime.runPromise(Effect.flatMap(Tokens, (tokens) => tokens.issue(new Principal({ userId: admin.id, role: "admin" }))))
})
afterAll(() => runtime?.dispose())

test("a signed-in page loads the current account once per request, however often it asks for it", async () => {
  const request = new Request("http://scopeline.test/", { headers: { authorization: `Bearer ${token}` } })
  reads.findSession = 0
  reads.findById = 0
  const user = await runtime.runPromise(
    Effect.gen(function* () {
      const { principal, user } = yield* signedIn(request, "view")
      // A page handler asking again (render, preferences) reads the same account, not the database.
      const again = yield* currentUser(principal)
      expect(again).toBe(user)
      return user
    }),
  )
  expect(user.email).toBe("admin@demo.scopeline.dev")
  expect(reads).toEqual({ findSession: 1, findById: 0 })
})
