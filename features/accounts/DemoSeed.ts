import type { Role } from "./Role.ts"
import { Effect } from "effect"
import { NewLocalUser, UsersRepo } from "./UsersRepo.ts"

export const demoUsers: ReadonlyArray<{ email: string; firstName: string; lastName: string; role: Role }> = [
  { email: "admin@demo.scopeline.dev", firstName: "Ada", lastName: "Admin", role: "admin" },
  { email: "accountant@demo.scopeline.dev", firstName: "Chidi", lastName: "Accountant", role: "accountant" },
  { email: "viewer@demo.scopeline.dev", firstName: "Vera", lastName: "Viewer", role: "viewer" },
]

/**
 * Creates the demo accounts if they do not exist; running it again changes nothing.
 * `hashPassword` is passed in because hashing belongs to the auth package, above this one.
 */
export const seedDemoUsers = (hashPassword: (password: string) => Effect.Effect<string>, password: string) =>
  Effect.gen(function* () {
    const users = yield* UsersRepo
    const passwordHash = yield* hashPassword(password)
    yield* Effect.forEach(demoUsers, (user) => users.insertIfAbsent(new NewLocalUser({ ...user, passwordHash })), {
      discard: true,
    })
  }).pipe(Effect.withSpan("DemoSeed.seedDemoUsers"))
