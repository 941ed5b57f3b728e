import { SqlClient, SqlSchema } from "@effect/sql"
import { Role } from "./Role.ts"
import { User, UserId } from "./User.ts"
import { Effect, Schema } from "effect"

/** A user as the login flow needs it: identity, role and the password hash (absent for Cognito users). */
export class UserCredentials extends Schema.Class<UserCredentials>("UserCredentials")({
  id: UserId,
  role: Role,
  active: Schema.Boolean,
  passwordHash: Schema.NullOr(Schema.String),
}) {}

/** What every authenticated request reads: the account as it is now, and when its sessions were cut off. */
export class SessionAccount extends Schema.Class<SessionAccount>("SessionAccount")({
  ...User.fields,
  /** Tokens issued before this are refused (deactivation, deletion, password change). */
  sessionsValidAfter: Schema.NullOr(Schema.DateFromSelf),
  /** Whether the token being checked was signed out (its `jti` is on the deny-list). */
  revoked: Schema.Boolean,
}) {}

export class NewLocalUser extends Schema.Class<NewLocalUser>("NewLocalUser")({
  email: Schema.String,
  firstName: Schema.String,
  lastName: Schema.String,
  role: Role,
  passwordHash: Schema.String,
}) {}

const userColumns = "id, email, first_name, last_name, role, marketing_opted_in, time_format, timezone, active"

export class UsersRepo extends Effect.Service<UsersRepo>()("scopeline/UsersRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const byId = SqlSchema.findOne({
      Request: UserId,
      Result: User,
      execute: (id) => sql`SELECT ${sql.literal(userColumns)} FROM users WHERE id = ${id} AND deleted_at IS NULL`,
    })
    // One round trip per authenticated request: the account and the token's revocation together.
    const sessionById = SqlSchema.findOne({
      Request: Schema.Struct({ id: UserId, tokenId: Schema.String }),
      Result: SessionAccount,
      execute: ({ id, tokenId }) =>
        sql`SELECT ${sql.literal(userColumns)}, sessions_valid_after,
              EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ${tokenId}) AS revoked
            FROM users WHERE id = ${id} AND deleted_at IS NULL`,
    })
    const credentialsByEmail = SqlSchema.findOne({
      Request: Schema.String,
      Result: UserCredentials,
      execute: (email) =>
        sql`SELECT id, role, active, password_hash FROM users WHERE email = ${email.trim().toLowerCase()} AND deleted_at IS NULL`,
    })
    // Idempotent: an existing account keeps its password and role (the seed never overwrites edits).
    const insertIfAbsent = SqlSchema.void({
      Request: NewLocalUser,
      execute: (user) => sql`
        INSERT INTO users ${sql.insert({ ...user, email: user.email.toLowerCase() })}
        ON CONFLICT (email) WHERE deleted_at IS NULL DO NOTHING`,
    })

    // Deleted accounts too: the log and the uploads they made still name them.
    const everyone = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Schema.Struct({ id: UserId, email: Schema.String, deleted: Schema.Boolean }),
      execute: () => sql`SELECT id, email, deleted_at IS NOT NULL AS deleted FROM users ORDER BY email, id`,
    })

    return {
      /** Every account there has been, by email, to name the people of the audit log. */
      everyone: Effect.fn("UsersRepo.everyone")(function* () {
        return yield* everyone(undefined).pipe(Effect.orDie)
      }),
      findById: Effect.fn("UsersRepo.findById")(function* (id: UserId) {
        return yield* byId(id).pipe(Effect.orDie)
      }),
      findSession: Effect.fn("UsersRepo.findSession")(function* (id: UserId, tokenId: string) {
        return yield* sessionById({ id, tokenId }).pipe(Effect.orDie)
      }),
      updateProfile: Effect.fn("UsersRepo.updateProfile")(function* (
        id: UserId,
        profile: {
          readonly firstName: string | null
          readonly lastName: string | null
          readonly marketingOptedIn: boolean
          readonly timeFormat: 12 | 24
          readonly timezone: string
        },
      ) {
        yield* sql`
          UPDATE users SET first_name = ${profile.firstName}, last_name = ${profile.lastName},
            marketing_opted_in = ${profile.marketingOptedIn}, time_format = ${profile.timeFormat},
            timezone = ${profile.timezone}, updated_at = now()
          WHERE id = ${id}`.pipe(Effect.orDie)
      }),
      /**
       * A new password ends every session issued before it. The cut-off is the app's clock, which
       * also stamps the tokens, so the new session's token (issued right after) is never refused.
       */
      setPassword: Effect.fn("UsersRepo.setPassword")(function* (id: UserId, passwordHash: string) {
        yield* sql`
          UPDATE users SET password_hash = ${passwordHash}, sessions_valid_after = ${new Date()}, updated_at = now()
          WHERE id = ${id}`.pipe(Effect.orDie)
      }),
      recordSignIn: Effect.fn("UsersRepo.recordSignIn")(function* (id: UserId) {
        yield* sql`UPDATE users SET last_sign_in_at = now() WHERE id = ${id}`.pipe(Effect.orDie)
      }),
      findCredentials: Effect.fn("UsersRepo.findCredentials")(function* (email: string) {
        return yield* credentialsByEmail(email).pipe(Effect.orDie)
      }),
      insertIfAbsent: Effect.fn("UsersRepo.insertIfAbsent")(function* (user: NewLocalUser) {
        return yield* insertIfAbsent(user).pipe(Effect.orDie)
      }),
    }
  }),
}) {}
