import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Passwords } from "@scopeline/identity/Passwords"
import { Forbidden } from "@scopeline/ui/ApiError"
import { Effect, Option, Schema } from "effect"
import { LoginThrottle } from "./LoginThrottle.ts"
import { checkPassword } from "./PasswordRules.ts"
import { Tokens } from "./Tokens.ts"
import { type Principal, TimeFormat, type User } from "./User.ts"
import { UsersRepo } from "./UsersRepo.ts"

/** A timezone the runtime knows by its IANA name (`Europe/London`, `Asia/Singapore`, `UTC`). */
export const Timezone = Schema.String.pipe(
  Schema.maxLength(64),
  Schema.filter(
    (name) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: name })
        return /^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/.test(name)
      } catch {
        return false
      }
    },
    { message: () => "must be an IANA timezone name, such as Europe/London or Asia/Singapore" },
  ),
  // Stored as the runtime spells it ("utc" and "europe/london" are accepted and kept as "UTC", "Europe/London").
  Schema.transform(Schema.String, {
    strict: true,
    decode: (name) => new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone,
    encode: (name) => name,
  }),
)

const Name = Schema.NullOr(Schema.String.pipe(Schema.maxLength(100)))

/** Body of PATCH /v1/me: any part may be left out; what is given replaces what was there. */
export const ProfileChange = Schema.Struct({
  identity: Schema.optional(Schema.Struct({ firstname: Schema.optional(Name), lastname: Schema.optional(Name) })),
  preferences: Schema.optional(
    Schema.Struct({
      marketing_opted_in: Schema.optional(Schema.Boolean),
      time_format: Schema.optional(TimeFormat),
      timezone: Schema.optional(Timezone),
    }),
  ),
})
export type ProfileChange = typeof ProfileChange.Type

/** Body of POST /v1/me/password. */
export const PasswordChange = Schema.Struct({
  current_password: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(1024)),
  new_password: Schema.String.pipe(Schema.maxLength(1024)),
})
export type PasswordChange = typeof PasswordChange.Type

const blankToNull = (name: string | null | undefined) => (name === undefined ? undefined : name === null || name.trim() === "" ? null : name.trim())

/** The signed-in person's own account: their name, their preferences, their password. */
export class Profile extends Effect.Service<Profile>()("scopeline/Profile", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const users = yield* UsersRepo
    const audit = yield* AuditLog
    const passwords = yield* Passwords
    const throttle = yield* LoginThrottle
    const tokens = yield* Tokens

    const update = Effect.fn("Profile.update")(function* (principal: Principal, change: ProfileChange, before: User) {
      const next = {
        firstName: blankToNull(change.identity?.firstname) ?? (change.identity?.firstname === undefined ? before.firstName : null),
        lastName: blankToNull(change.identity?.lastname) ?? (change.identity?.lastname === undefined ? before.lastName : null),
        marketingOptedIn: change.preferences?.marketing_opted_in ?? before.marketingOptedIn,
        timeFormat: change.preferences?.time_format ?? before.timeFormat,
        timezone: change.preferences?.timezone ?? before.timezone,
      }
      // Which fields changed, by name only: a name is personal data and stays out of the log.
      const changed = Object.entries(next)
        .filter(([field, value]) => before[field as keyof typeof next] !== value)
        .map(([field]) => field)
      if (changed.length === 0) return before
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* users.updateProfile(principal.userId, next)
          yield* audit.record({
            category: "security",
            action: "profile_updated",
            actor: { userId: principal.userId, role: principal.role },
            object: { type: "user", id: principal.userId },
            details: { fields: changed, ...(next.timezone === before.timezone ? {} : { timezone: next.timezone }) },
          })
        }),
      ).pipe(Effect.orDie)
      return yield* users.findById(principal.userId).pipe(Effect.map(Option.getOrElse(() => before)))
    })

    /**
     * A wrong current password is a 403 and counts as a failed sign-in for throttling (so this is no
     * way around it). Success signs out every other session of the account and returns a new token
     * for this one.
     */
    const changePassword = Effect.fn("Profile.changePassword")(function* (principal: Principal, user: User, change: PasswordChange, from: string) {
      // Throttled, this also locks the account's sign-in: recorded like a throttled sign-in.
      yield* throttle.claimAttempt(user.email, from).pipe(
        Effect.tapErrorTag("TooManyRequests", (error) =>
          audit.recordRefusal({
            category: "security",
            action: "login_locked",
            actor: { userId: principal.userId, role: principal.role },
            object: { type: "user", id: principal.userId },
            outcome: { status: "failure", errorCode: "too_many_requests", message: error.message },
            details: { retry_after_seconds: error.retryAfterSeconds, address: from, via: "password change" },
          }),
        ),
      )
      const credentials = yield* users.findCredentials(user.email)
      const hash = Option.flatMapNullable(credentials, (c) => c.passwordHash)
      if (Option.isNone(hash)) {
        return yield* new Forbidden({ message: "This account signs in through your organisation's identity provider: change the password there." })
      }
      if (!(yield* passwords.verify(change.current_password, hash.value))) {
        yield* audit.recordRefusal({
          category: "security",
          action: "password_changed",
          actor: { userId: principal.userId, role: principal.role },
          object: { type: "user", id: principal.userId },
          outcome: { status: "failure", errorCode: "forbidden", message: "wrong current password" },
        })
        return yield* new Forbidden({ message: "The current password is incorrect.", details: { field: "current_password" } })
      }
      yield* throttle.clear(user.email, from)
      yield* checkPassword(change.new_password, user.email, "new_password")
      const newHash = yield* passwords.hash(change.new_password)
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* users.setPassword(principal.userId, newHash)
          yield* audit.record({
            category: "security",
            action: "password_changed",
            actor: { userId: principal.userId, role: principal.role },
            object: { type: "user", id: principal.userId },
            details: { other_sessions: "signed out" },
          })
        }),
      ).pipe(Effect.orDie)
      return yield* tokens.issue(principal)
    })

    return { update, changePassword }
  }),
  dependencies: [UsersRepo.Default, Passwords.Default, LoginThrottle.Default, Tokens.Default],
}) {}
