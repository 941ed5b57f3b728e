import { SqlClient } from "@effect/sql"
import { Unauthorized } from "@scopeline/ui/ApiError"
import { Effect } from "effect"

export const sessionSignedOut = new Unauthorized({ message: "This session was signed out. Sign in again." })

/**
 * The deny-list of signed-out tokens, by their `jti`. Checked on every authenticated request, in
 * the same query that reads the account (`UsersRepo.findSession`), so a sign-out applies at once on
 * every server instance.
 */
export class SessionRevocations extends Effect.Service<SessionRevocations>()("scopeline/SessionRevocations", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const revoke = Effect.fn("SessionRevocations.revoke")(function* (tokenId: string, expiresAt: Date) {
      yield* sql`INSERT INTO revoked_tokens (jti, expires_at) VALUES (${tokenId}, ${expiresAt}) ON CONFLICT (jti) DO NOTHING`
      // An expired token is refused by its signature check already; its row is no longer needed.
      yield* sql`DELETE FROM revoked_tokens WHERE expires_at < now()`
    }, Effect.orDie)

    return { revoke }
  }),
}) {}
