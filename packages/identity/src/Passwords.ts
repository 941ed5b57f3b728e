import { Effect } from "effect"

// OWASP's argon2id baseline (m=19 MiB, t=2): ~30 ms per hash on the reference machine.
const params = { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 } as const

export class Passwords extends Effect.Service<Passwords>()("scopeline/Passwords", {
  succeed: {
    hash: Effect.fn("Passwords.hash")(function* (password: string) {
      return yield* Effect.promise(() => Bun.password.hash(password, params))
    }),
    verify: Effect.fn("Passwords.verify")(function* (password: string, hash: string) {
      return yield* Effect.promise(() => Bun.password.verify(password, hash).catch(() => false))
    }),
  },
}) {}
