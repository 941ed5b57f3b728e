import { SqlClient } from "@effect/sql"
import { TooManyRequests } from "@scopeline/ui/ApiError"
import { Effect } from "effect"

/** At most MAX_FAILURES failed logins per login name within WINDOW_SECONDS, then 429 until the oldest expires. */
export const MAX_FAILURES = 5
export const WINDOW_SECONDS = 15 * 60

export class LoginThrottle extends Effect.Service<LoginThrottle>()("scopeline/LoginThrottle", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const normalise = (login: string) => login.trim().toLowerCase()

    /**
     * Reserves one attempt before the password is checked: the attempt is stored as a failure up
     * front (and cleared on success), under a per-login advisory lock, so parallel requests cannot
     * all pass the count before any failure is recorded.
     */
    const claimAttempt = Effect.fn("LoginThrottle.claimAttempt")(function* (login: string) {
      const name = normalise(login)
      const [row] = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`login:${name}`}))`
          const counted = yield* sql<{ failures: number; retryAfter: number | null }>`
            SELECT count(*)::int AS failures,
                   ceil(extract(epoch FROM min(failed_at) + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int AS retry_after
            FROM login_failures
            WHERE login = ${name} AND failed_at > now() - make_interval(secs => ${WINDOW_SECONDS})`
          if ((counted[0]?.failures ?? 0) < MAX_FAILURES) yield* sql`INSERT INTO login_failures (login) VALUES (${name})`
          return counted
        }),
      ).pipe(Effect.orDie)
      if (row && row.failures >= MAX_FAILURES) {
        const retryAfterSeconds = Math.max(1, row.retryAfter ?? WINDOW_SECONDS)
        return yield* new TooManyRequests({
          message: `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
          retryAfterSeconds,
        })
      }
      // Old rows are useless once outside the window; trimming here keeps the table small.
      yield* sql`DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => ${WINDOW_SECONDS * 2})`.pipe(
        Effect.orDie,
      )
    })

    /** The password was right: the reserved attempt and earlier failures are forgotten. */
    const clear = Effect.fn("LoginThrottle.clear")(function* (login: string) {
      yield* sql`DELETE FROM login_failures WHERE login = ${normalise(login)}`.pipe(Effect.orDie)
    })

    return { claimAttempt, clear }
  }),
}) {}
