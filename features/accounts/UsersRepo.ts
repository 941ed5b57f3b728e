import { SqlClient, SqlSchema } from "@effect/sql"
import { Role } from "./Role.ts"
import { User, UserId } from "./User.ts"
import { Effect, Schema } from "effect"

/** A user as the login flow needs it: identity, role and the password hash (absent for Cognito users). */
export class UserCredentials extends Schema.Class<UserCredentials>("UserCredentials")({
  id: UserId,
  role: Role,
  passwordHash: Schema.NullOr(Schema.String),
}) {}

export class NewLocalUser extends Schema.Class<NewLocalUser>("NewLocalUser")({
  email: Schema.String,
  firstName: Schema.String,
  lastName: Schema.String,
  role: Role,
  passwordHash: Schema.String,
}) {}

const userColumns = "id, email, first_name, last_name, role, marketing_opted_in, time_format, timezone"

export class UsersRepo extends Effect.Service<UsersRepo>()("scopeline/UsersRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const byId = SqlSchema.findOne({
      Request: UserId,
      Result: User,
      execute: (id) => sql`SELECT ${sql.literal(userColumns)} FROM users WHERE id = ${id}`,
    })
    const credentialsByEmail = SqlSchema.findOne({
      Request: Schema.String,
      Result: UserCredentials,
      execute: (email) => sql`SELECT id, role, password_hash FROM users WHERE email = ${email.trim().toLowerCase()}`,
    })
    // Idempotent: an existing account keeps its password and role (the seed never overwrites edits).
    const insertIfAbsent = SqlSchema.void({
      Request: NewLocalUser,
      execute: (user) => sql`
        INSERT INTO users ${sql.insert({ ...user, email: user.email.toLowerCase() })}
        ON CONFLICT (email) DO NOTHING`,
    })

    const all = SqlSchema.findAll({
      Request: Schema.Void,
      Result: User,
      execute: () => sql`SELECT ${sql.literal(userColumns)} FROM users ORDER BY email`,
    })

    return {
      list: Effect.fn("UsersRepo.list")(function* () {
        return yield* all(undefined).pipe(Effect.orDie)
      }),
      findById: Effect.fn("UsersRepo.findById")(function* (id: UserId) {
        return yield* byId(id).pipe(Effect.orDie)
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
