import { SqlClient, SqlSchema } from "@effect/sql"
import { Role } from "./Role.ts"
import { UserId } from "./User.ts"
import { Effect, Option, Schema } from "effect"

/** What a verified Cognito token says about its user. */
export class CognitoIdentity extends Schema.Class<CognitoIdentity>("CognitoIdentity")({
  cognitoSub: Schema.UUID,
  /** Lower-cased; absent from access tokens. */
  email: Schema.NullOr(Schema.String),
  firstName: Schema.NullOr(Schema.String),
  lastName: Schema.NullOr(Schema.String),
  role: Role,
}) {}

export class CognitoUser extends Schema.Class<CognitoUser>("CognitoUser")({
  id: UserId,
  role: Role,
}) {}

/**
 * Our users rows for Cognito identities (AWS mode). Cognito owns identity and group membership; the
 * users row is our handle on it (uploads reference users.id), found by `cognito_sub`.
 */
export class CognitoUsersRepo extends Effect.Service<CognitoUsersRepo>()("scopeline/CognitoUsersRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    /*
     * One statement, run on every verified token:
     * - known sub, same role → no write at all (a read per request, not a write);
     * - known sub, other role → the role follows the Cognito groups;
     * - new sub → a row is provisioned, unless it has no email (access tokens carry none) or the email
     *   already belongs to another row. That row is never linked automatically: Cognito may not have
     *   verified the email, and linking by it would hand that account to whoever typed the address.
     * The proposed row for a known sub carries that row's own email, so only the cognito_sub arbiter
     * can conflict. An empty result means "cannot provision".
     */
    const upsert = SqlSchema.findOne({
      Request: CognitoIdentity,
      Result: CognitoUser,
      execute: (identity) => sql`
        WITH claim AS (
          SELECT ${identity.cognitoSub}::uuid AS cognito_sub, ${identity.email}::text AS email,
                 ${identity.firstName}::text AS first_name, ${identity.lastName}::text AS last_name,
                 ${identity.role}::role AS role
        ),
        known AS (
          SELECT u.id, u.role, u.email FROM users u JOIN claim c ON u.cognito_sub = c.cognito_sub
        ),
        upserted AS (
          INSERT INTO users (cognito_sub, email, first_name, last_name, role)
          SELECT c.cognito_sub, COALESCE((SELECT k.email FROM known k), c.email), c.first_name, c.last_name, c.role
          FROM claim c
          WHERE EXISTS (SELECT 1 FROM known)
             OR (c.email IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.email = c.email))
          ON CONFLICT (cognito_sub) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
            WHERE users.role IS DISTINCT FROM EXCLUDED.role
          RETURNING id, role
        )
        SELECT id, role FROM upserted
        UNION ALL
        SELECT id, role FROM known WHERE NOT EXISTS (SELECT 1 FROM upserted)`,
    })

    return {
      /**
       * The user's id and (synchronised) role, provisioning the row on first sight; None when it
       * cannot be provisioned (see above).
       */
      upsert: Effect.fn("CognitoUsersRepo.upsert")(function* (identity: CognitoIdentity) {
        const first = yield* upsert(identity).pipe(Effect.orDie)
        if (Option.isSome(first)) return first
        // Two first requests of a new user racing: the loser's INSERT meets the winner's row (committed
        // after our snapshot), skips the no-op update and returns nothing. A second run sees the row.
        return yield* upsert(identity).pipe(Effect.orDie)
      }),
      /** The user already provisioned for a Cognito sub, without provisioning one. */
      findBySub: Effect.fn("CognitoUsersRepo.findBySub")(function* (cognitoSub: string) {
        const [row] = yield* sql<{ id: string }>`SELECT id::text AS id FROM users WHERE cognito_sub = ${cognitoSub}::uuid`.pipe(Effect.orDie)
        return Option.fromNullable(row?.id)
      }),
    }
  }),
}) {}
