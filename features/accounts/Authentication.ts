import { UsersRepo } from "./UsersRepo.ts"
import { Unauthorized } from "@scopeline/ui/ApiError"
import { Principal } from "./User.ts"
import { Effect, Option, Schema } from "effect"
import { LoginThrottle } from "./LoginThrottle.ts"
import { Passwords } from "@scopeline/identity/Passwords"
import { Tokens } from "./Tokens.ts"
import { SessionRevocations, sessionSignedOut } from "./SessionRevocations.ts"

export const Credentials = Schema.Struct({
  login: Schema.String.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(320)),
  password: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)),
})
export type Credentials = typeof Credentials.Type

/** Body of POST /v1/auth/login, as in the seed. */
export const LoginRequest = Schema.Struct({ credentials: Credentials })

const invalidCredentials = new Unauthorized({ message: "The login or password is incorrect." })

export class Authentication extends Effect.Service<Authentication>()("scopeline/Authentication", {
  effect: Effect.gen(function* () {
    const users = yield* UsersRepo
    const passwords = yield* Passwords
    const throttle = yield* LoginThrottle
    const tokens = yield* Tokens
    const revocations = yield* SessionRevocations
    // Verifying against a real hash for unknown logins keeps response times equal, so timing does
    // not reveal which logins exist.
    const decoyHash = yield* passwords.hash(crypto.randomUUID())

    /** `from` is the client's address (`clientAddressOf`), which throttling counts failures by. */
    const login = Effect.fn("Authentication.login")(function* (credentials: Credentials, from: string) {
      yield* throttle.claimAttempt(credentials.login, from)
      const user = yield* users.findCredentials(credentials.login)
      const hash = Option.flatMapNullable(user, (u) => u.passwordHash)
      const valid = yield* passwords.verify(credentials.password, Option.getOrElse(hash, () => decoyHash))
      if (Option.isNone(user) || Option.isNone(hash) || !valid) return yield* invalidCredentials
      yield* throttle.clear(credentials.login, from)
      const principal = new Principal({ userId: user.value.id, role: user.value.role })
      const jwt = yield* tokens.issue(principal)
      return { jwt, principal }
    })

    /**
     * The token's signature and expiry, then the account as it is now: a deleted account is signed
     * out and a changed role applies at once, not when the token expires.
     */
    const verify = Effect.fn("Authentication.verify")(function* (token: string) {
      const verified = yield* tokens.verify(token)
      if (yield* revocations.isRevoked(verified.tokenId)) return yield* sessionSignedOut
      const user = yield* users.findById(verified.principal.userId)
      if (Option.isNone(user)) return yield* new Unauthorized({ message: "This account no longer exists." })
      return new Principal({ userId: user.value.id, role: user.value.role })
    })

    /**
     * Revokes the token on the server, so the same cookie or bearer token is refused from now on.
     * A token that is already invalid has nothing left to revoke: signing out still succeeds.
     */
    const signOut = Effect.fn("Authentication.signOut")(function* (token: string) {
      const verified = yield* tokens.verify(token).pipe(Effect.option)
      if (Option.isSome(verified)) yield* revocations.revoke(verified.value.tokenId, verified.value.expiresAt)
    })

    return { login, verify, signOut }
  }),
  dependencies: [UsersRepo.Default, Passwords.Default, LoginThrottle.Default, Tokens.Default, SessionRevocations.Default],
}) {}
