import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Role } from "./Role.ts"
import { UserId } from "./User.ts"

export const InvitationId = Schema.UUID.pipe(Schema.brand("InvitationId"))
export type InvitationId = typeof InvitationId.Type

export class Invitation extends Schema.Class<Invitation>("Invitation")({
  id: InvitationId,
  email: Schema.String,
  role: Role,
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  invitedBy: UserId,
  createdAt: Schema.DateFromSelf,
  expiresAt: Schema.DateFromSelf,
  acceptedAt: Schema.NullOr(Schema.DateFromSelf),
  revokedAt: Schema.NullOr(Schema.DateFromSelf),
}) {}

export class NewInvitation extends Schema.Class<NewInvitation>("NewInvitation")({
  email: Schema.String,
  role: Role,
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  tokenHash: Schema.String,
  invitedBy: UserId,
  expiresAt: Schema.DateFromSelf,
}) {}

const columns = "id, email, role, first_name, last_name, invited_by, created_at, expires_at, accepted_at, revoked_at"

export class InvitationsRepo extends Effect.Service<InvitationsRepo>()("scopeline/InvitationsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const insert = SqlSchema.single({
      Request: NewInvitation,
      Result: Invitation,
      execute: (invitation) => sql`INSERT INTO invitations ${sql.insert(invitation)} RETURNING ${sql.literal(columns)}`,
    })
    const pending = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Invitation,
      execute: () => sql`
        SELECT ${sql.literal(columns)} FROM invitations
        WHERE accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() ORDER BY created_at DESC LIMIT 500`,
    })
    // Locked: two accepts of one link serialise here, and the second sees it used.
    const byTokenHash = SqlSchema.findOne({
      Request: Schema.String,
      Result: Invitation,
      execute: (hash) => sql`SELECT ${sql.literal(columns)} FROM invitations WHERE token_hash = ${hash} FOR UPDATE`,
    })
    const pendingFor = SqlSchema.findOne({
      Request: Schema.String,
      Result: Invitation,
      execute: (email) => sql`
        SELECT ${sql.literal(columns)} FROM invitations
        WHERE email = ${email} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now() LIMIT 1`,
    })

    return {
      insert: (invitation: NewInvitation) => insert(invitation).pipe(Effect.orDie),
      pending: () => pending(undefined).pipe(Effect.orDie),
      findByTokenHash: (hash: string) => byTokenHash(hash).pipe(Effect.orDie),
      findPendingFor: (email: string) => pendingFor(email).pipe(Effect.orDie),
      /** True when a pending invitation was revoked. */
      revoke: Effect.fn("InvitationsRepo.revoke")(function* (id: InvitationId) {
        const rows = yield* sql`
          UPDATE invitations SET revoked_at = now()
          WHERE id = ${id} AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()
          RETURNING id`.pipe(Effect.orDie)
        return rows.length > 0
      }),
      markAccepted: Effect.fn("InvitationsRepo.markAccepted")(function* (id: InvitationId, userId: UserId) {
        yield* sql`UPDATE invitations SET accepted_at = now(), accepted_by = ${userId} WHERE id = ${id}`.pipe(Effect.orDie)
      }),
      /** Serialises invitations and sign-ups for one email within the transaction. */
      lockEmail: Effect.fn("InvitationsRepo.lockEmail")(function* (email: string) {
        yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`email:${email}`}))`.pipe(Effect.orDie)
      }),
      emailHasAccount: Effect.fn("InvitationsRepo.emailHasAccount")(function* (email: string) {
        const rows = yield* sql`SELECT 1 FROM users WHERE email = ${email} AND deleted_at IS NULL`.pipe(Effect.orDie)
        return rows.length > 0
      }),
      /** AWS mode: the account exists in Cognito already; this row is our handle on it (found by `cognito_sub`). */
      createCognitoUser: Effect.fn("InvitationsRepo.createCognitoUser")(function* (user: {
        readonly cognitoSub: string
        readonly email: string
        readonly firstName: string | null
        readonly lastName: string | null
        readonly role: string
        readonly invitedBy: UserId
      }) {
        const [row] = yield* sql<{ id: UserId }>`
          INSERT INTO users (cognito_sub, email, first_name, last_name, role, invited_by)
          VALUES (${user.cognitoSub}::uuid, ${user.email}, ${user.firstName}, ${user.lastName}, ${user.role}::role, ${user.invitedBy})
          RETURNING id`.pipe(Effect.orDie)
        return row!.id
      }),
      createUser: Effect.fn("InvitationsRepo.createUser")(function* (user: {
        readonly email: string
        readonly firstName: string | null
        readonly lastName: string | null
        readonly role: string
        readonly passwordHash: string
        readonly invitedBy: UserId
      }) {
        const [row] = yield* sql<{ id: UserId }>`
          INSERT INTO users (email, first_name, last_name, role, password_hash, invited_by, last_sign_in_at)
          VALUES (${user.email}, ${user.firstName}, ${user.lastName}, ${user.role}::role, ${user.passwordHash},
            ${user.invitedBy}, now())
          RETURNING id`.pipe(Effect.orDie)
        return row!.id
      }),
    }
  }),
}) {}
