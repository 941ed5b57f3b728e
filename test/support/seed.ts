import { Passwords } from "@scopeline/identity/Passwords"
import { seedDemoUsers } from "@scopeline/accounts/DemoSeed"
import { UsersRepo } from "@scopeline/accounts/UsersRepo"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, String } from "effect"

/** A SqlClient on a test database, with the same name transforms the apps use. */
export const sqlLayer = (databaseUrl: string) =>
  PgClient.layer({
    url: Redacted.make(databaseUrl),
    transformQueryNames: String.camelToSnake,
    transformResultNames: String.snakeToCamel,
  })

export const DEMO_TEST_PASSWORD = "correct horse battery staple"

/** The demo accounts (admin, accountant, viewer @demo.scopeline.dev) in a migrated test database. */
export const seedDemo = (databaseUrl: string, password = DEMO_TEST_PASSWORD) =>
  Effect.runPromise(
    Effect.gen(function* () {
      const passwords = yield* Passwords
      yield* seedDemoUsers(passwords.hash, password)
    }).pipe(Effect.provide(Layer.merge(UsersRepo.Default, Passwords.Default).pipe(Layer.provideMerge(sqlLayer(databaseUrl))))),
  )
