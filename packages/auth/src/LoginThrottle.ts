import { SqlClient } from "@effect/sql"
import { TooManyRequests } from "@scopeline/domain/ApiError"
import { Effect } from "effect"

/** At most MAX_FAILURES failed logins per login name within WINDOW_SECONDS, then 429 until the oldest expires. */
export const MAX_FAILURES = 5
export const WINDOW_SECONDS = 15 * 60

export class LoginThrottle extends Effect.Service<LoginThrottle>()("scopeline/LoginThrottle", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const normalise = (login: string) => login.trim().toLowerCase()

    const check = Effect.fn("LoginThrottle.check")(function* (login: string) {
      const [row] = yield* sql<{ failures: number; retryAfter: number | null }>`
        SELECT count(*)::int AS failures,
               ceil(extract(epoch FROM min(failed_at) + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int AS retry_after
        FROM login_failures
        WHERE login = ${normalise(login)} AND failed_at > now() - make_interval(secs => ${WINDOW_SECONDS})`.pipe(
        Effect.orDie,
      )
      if (row && row.failures >= MAX_FAILURES) {
        const retryAfterSeconds = Math.max(1, row.retryAfter ?? WINDOW_SECONDS)
        return yield* new TooManyRequests({
          message: `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
          retryAfterSeconds,
        })
      }
    })

    const recordFailure = Effect.fn("LoginThrottle.recordFailure")(function* (login: string) {
      yield* sql`INSERT INTO login_failures (login) VALUES (${normalise(login)})`.pipe(Effect.orDie)
      // Old rows are useless once outside the window; trimming here keeps the table small.
      yield* sql`DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => ${WINDOW_SECONDS * 2})`.pipe(
        Effect.orDie,
      )
    })

    const clear = Effect.fn("LoginThrottle.clear")(function* (login: string) {
      yield* sql`DELETE FROM login_failures WHERE login = ${normalise(login)}`.pipe(Effect.orDie)
    })

    return { check, recordFailure, clear }
  }),
}) {}
