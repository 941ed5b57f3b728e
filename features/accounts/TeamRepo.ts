import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Role } from "./Role.ts"
import { UserId } from "./User.ts"

/** A member of the team as the admin page and GET /v1/admin/users show it. */
export class TeamMember extends Schema.Class<TeamMember>("TeamMember")({
  id: UserId,
  email: Schema.String,
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  role: Role,
  active: Schema.Boolean,
  lastSignInAt: Schema.NullOr(Schema.DateFromSelf),
  invitedBy: Schema.NullOr(UserId),
  invitedByEmail: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
}) {}

const PageRequest = Schema.Struct({ offset: Schema.Int, limit: Schema.Int })

const memberColumns = `u.id, u.email, u.first_name, u.last_name, u.role, u.active, u.last_sign_in_at, u.invited_by,
  inviter.email AS invited_by_email, u.created_at`

/** The team's accounts: listing, role and activity changes, deletion (the row stays for attribution). */
export class TeamRepo extends Effect.Service<TeamRepo>()("scopeline/TeamRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const page = SqlSchema.findAll({
      Request: PageRequest,
      Result: TeamMember,
      execute: ({ offset, limit }) => sql`
        SELECT ${sql.literal(memberColumns)} FROM users u LEFT JOIN users inviter ON inviter.id = u.invited_by
        WHERE u.deleted_at IS NULL ORDER BY u.email, u.id LIMIT ${limit} OFFSET ${offset}`,
    })
    const byId = SqlSchema.findOne({
      Request: UserId,
      Result: TeamMember,
      execute: (id) => sql`
        SELECT ${sql.literal(memberColumns)} FROM users u LEFT JOIN users inviter ON inviter.id = u.invited_by
        WHERE u.id = ${id} AND u.deleted_at IS NULL`,
    })

    return {
      page: Effect.fn("TeamRepo.page")(function* (offset: number, limit: number) {
        const members = yield* page({ offset, limit }).pipe(Effect.orDie)
        const [count] = yield* sql<{ total: number }>`SELECT count(*)::int AS total FROM users WHERE deleted_at IS NULL`.pipe(
          Effect.orDie,
        )
        return { members, total: count?.total ?? 0 }
      }),
      findById: Effect.fn("TeamRepo.findById")(function* (id: UserId) {
        return yield* byId(id).pipe(Effect.orDie)
      }),
      /**
       * The active admins, locked until the transaction ends: two admins demoting each other at the
       * same moment serialise here, so the last one standing is never removed.
       */
      lockActiveAdmins: Effect.fn("TeamRepo.lockActiveAdmins")(function* () {
        const rows = yield* sql<{ id: string }>`
          SELECT id FROM users WHERE role = 'admin' AND active AND deleted_at IS NULL ORDER BY id FOR UPDATE`.pipe(Effect.orDie)
        return rows.map((row) => row.id)
      }),
      setRole: Effect.fn("TeamRepo.setRole")(function* (id: UserId, role: Role) {
        yield* sql`UPDATE users SET role = ${role}, updated_at = now() WHERE id = ${id}`.pipe(Effect.orDie)
      }),
      /**
       * Deactivating also ends every session the account holds; reactivating does not revive them.
       * The cut-off is the app's clock, the one that stamps tokens.
       */
      setActive: Effect.fn("TeamRepo.setActive")(function* (id: UserId, active: boolean) {
        yield* (active
          ? sql`UPDATE users SET active = true, updated_at = now() WHERE id = ${id}`
          : sql`UPDATE users SET active = false, sessions_valid_after = ${new Date()}, updated_at = now() WHERE id = ${id}`
        ).pipe(Effect.orDie)
      }),
      /** Removed from sign-in (no password, no session, email free for a new account); the row stays. */
      markDeleted: Effect.fn("TeamRepo.markDeleted")(function* (id: UserId) {
        yield* sql`
          UPDATE users SET deleted_at = now(), active = false, password_hash = NULL, sessions_valid_after = ${new Date()},
            updated_at = now()
          WHERE id = ${id}`.pipe(Effect.orDie)
      }),
    }
  }),
}) {}
