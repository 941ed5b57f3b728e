import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Passwords } from "@scopeline/identity/Passwords"
import { type TooManyRequests, Unauthorized } from "@scopeline/ui/ApiError"
import type { NewPasswordRequired, WeakPassword } from "./errors.ts"
import { Effect, Option, Schema } from "effect"
import { LoginThrottle } from "./LoginThrottle.ts"
import { SessionRevocations, sessionSignedOut } from "./SessionRevocations.ts"
import { Tokens, type VerifiedToken } from "./Tokens.ts"
import { Principal, User } from "./User.ts"
import { UsersRepo } from "./UsersRepo.ts"

export const Credentials = Schema.Struct({
  login: Schema.String.pipe(Schema.trimmed(), Schema.minLength(1), Schema.maxLength(320)),
  password: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)),
  /** AWS mode: the password an invited person chooses when signing in with Cognito's temporary one. */
  new_password: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024))),
})
export type Credentials = typeof Credentials.Type

/** Body of POST /v1/auth/login, as in the seed. */
export const LoginRequest = Schema.Struct({ credentials: Credentials })

const invalidCredentials = new Unauthorized({ message: "The login or password is incorrect." })
const deactivated = new Unauthorized({ message: "This account has been deactivated. Ask an administrator of your team." })

/**
 * Whether a verified token still stands for the account as it is now: a deleted account is signed
 * out, a deactivated one refused, a token older than the account's last sign-out-everywhere refused,
 * and a changed role applies at once, not when the token expires.
 */
// The account each verified principal was checked against, for the rest of its request: pages and
// routes that need the user's name or preferences read it here instead of loading it again.
const checkedAccounts = new WeakMap<Principal, User>()

/** The account `principal` was verified against in this request, if it came from `principalOf`. */
export const checkedAccountOf = (principal: Principal): User | undefined => checkedAccounts.get(principal)

export const principalOf = (users: UsersRepo, token: VerifiedToken) =>
  Effect.gen(function* () {
    const account = yield* users.findSession(token.principal.userId, token.tokenId)
    if (Option.isNone(account)) return yield* new Unauthorized({ message: "This account no longer exists." })
    if (account.value.revoked) return yield* sessionSignedOut
    if (!account.value.active) return yield* deactivated
    const validAfter = account.value.sessionsValidAfter
    // A token that knows only its second is refused when issued in the very second of the cut-off.
    const cutoff = validAfter === null ? null : token.issuedAtExact ? validAfter.getTime() : Math.floor(validAfter.getTime() / 1000) * 1000 + 1000
    if (cutoff !== null && token.issuedAt.getTime() < cutoff) {
      return yield* sessionSignedOut
    }
    const { sessionsValidAfter: _, revoked: __, ...user } = account.value
    const principal = new Principal({ userId: account.value.id, role: account.value.role })
    checkedAccounts.set(principal, new User(user))
    return principal
  })

export class Authentication extends Effect.Service<Authentication>()("scopeline/Authentication", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const users = yield* UsersRepo
    const passwords = yield* Passwords
    const throttle = yield* LoginThrottle
    const tokens = yield* Tokens
    const revocations = yield* SessionRevocations
    const audit = yield* AuditLog
    // Verifying against a real hash for unknown logins keeps response times equal, so timing does
    // not reveal which logins exist.
    const decoyHash = yield* passwords.hash(crypto.randomUUID())

    // The address too: a guessing run from one place reads as one in the log, as the throttle counts it.
    const refused = (login: string, userId: Option.Option<string>, reason: string, from: string) =>
      audit.recordRefusal({
        category: "security",
        action: "login_failed",
        actor: { email: login, ...Option.match(userId, { onNone: () => ({}), onSome: (id) => ({ userId: id }) }) },
        object: Option.match(userId, {
          onNone: () => ({ type: "login", id: audit.emailHash(login) }),
          onSome: (id) => ({ type: "user", id }),
        }),
        outcome: { status: "failure", errorCode: "unauthorized", message: reason },
        details: { address: from },
      })

    /** `from` is the client's address (`clientAddressOf`), which throttling counts failures by. */
    const login = Effect.fn("Authentication.login")(function* (
      credentials: Credentials,
      from: string,
    ): Effect.fn.Return<{ readonly jwt: string; readonly principal: Principal }, Unauthorized | TooManyRequests | NewPasswordRequired | WeakPassword> {
      yield* throttle.claimAttempt(credentials.login, from).pipe(
        Effect.tapErrorTag("TooManyRequests", (error) =>
          audit.recordRefusal({
            category: "security",
            action: "login_locked",
            actor: { email: credentials.login },
            object: { type: "login", id: audit.emailHash(credentials.login) },
            outcome: { status: "failure", errorCode: "too_many_requests", message: error.message },
            details: { retry_after_seconds: error.retryAfterSeconds, address: from },
          }),
        ),
      )
      const user = yield* users.findCredentials(credentials.login)
      const hash = Option.flatMapNullable(user, (u) => u.passwordHash)
      const valid = yield* passwords.verify(credentials.password, Option.getOrElse(hash, () => decoyHash))
      const userId = Option.map(user, (u) => u.id)
      if (Option.isNone(user) || Option.isNone(hash) || !valid) {
        yield* refused(credentials.login, userId, "wrong login or password", from)
        return yield* invalidCredentials
      }
      // Only after the right password: who is deactivated is not revealed to someone guessing.
      if (!user.value.active) {
        yield* refused(credentials.login, userId, "account deactivated", from)
        return yield* deactivated
      }
      yield* throttle.clear(credentials.login, from)
      const principal = new Principal({ userId: user.value.id, role: user.value.role })
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* users.recordSignIn(principal.userId)
          yield* audit.record({
            category: "security",
            action: "login_succeeded",
            actor: { userId: principal.userId, role: principal.role },
            object: { type: "user", id: principal.userId },
            details: { address: from },
          })
        }),
      ).pipe(Effect.orDie)
      const jwt = yield* tokens.issue(principal)
      return { jwt, principal }
    })

    const verify = Effect.fn("Authentication.verify")(function* (token: string) {
      return yield* principalOf(users, yield* tokens.verify(token))
    })

    /**
     * Revokes the token on the server, so the same cookie or bearer token is refused from now on.
     * A token that is already invalid has nothing left to revoke: signing out still succeeds.
     */
    const signOut = Effect.fn("Authentication.signOut")(function* (token: string) {
      const verified = yield* tokens.verify(token).pipe(Effect.option)
      if (Option.isNone(verified)) return
      const { principal, tokenId, expiresAt } = verified.value
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* revocations.revoke(tokenId, expiresAt)
          yield* audit.record({
            category: "security",
            action: "logout",
            actor: { userId: principal.userId, role: principal.role },
            object: { type: "user", id: principal.userId },
          })
        }),
      ).pipe(Effect.orDie)
    })

    /**
     * Whose genuine token this is (signed by us and not expired), whatever its session's state now:
     * what the audit log names when a signed-out or deactivated session is refused. A forged token
     * has no subject to name.
     */
    const subjectOf = (token: string) =>
      tokens.verify(token).pipe(
        Effect.map((verified): { readonly userId: string } => ({ userId: verified.principal.userId })),
        Effect.option,
      )

    return { login, verify, subjectOf, signOut }
  }),
  dependencies: [UsersRepo.Default, Passwords.Default, LoginThrottle.Default, Tokens.Default, SessionRevocations.Default],
}) {}
