import { SqlClient } from "@effect/sql"
import { TooManyRequests } from "@scopeline/ui/ApiError"
import { Duration, Effect } from "effect"

/**
 * Sign-in throttling, counted over the last WINDOW_SECONDS, in three layers:
 *
 * - per (address, login): MAX_FAILURES_PER_LOGIN wrong passwords, then 429 until the oldest leaves
 *   the window. Guessing one account's password from one place is stopped here.
 * - per address: MAX_FAILURES_PER_ADDRESS wrong passwords over any logins, then 429. Trying a few
 *   guesses on many accounts (password spraying) from one place is stopped here.
 * - per login, from everywhere: once it has SLOW_AFTER_FAILURES failures, every attempt on it waits
 *   a delay that doubles with each failure up to MAX_DELAY before its password is checked. This
 *   slows a guess spread over many addresses without refusing anyone: the owner, signing in from
 *   their own address with the right password, is at most MAX_DELAY slower, never locked out (a
 *   hard per-login lock would let anyone lock any account by failing 5 times).
 *
 * The address is what `clientAddressOf` recorded (the socket's peer, or X-Forwarded-For behind a
 * trusted proxy). Counts live in PostgreSQL so every server instance enforces the same limits.
 */
export const MAX_FAILURES_PER_LOGIN = 5
export const MAX_FAILURES_PER_ADDRESS = 30
export const SLOW_AFTER_FAILURES = 10
export const MAX_DELAY = Duration.seconds(3)
export const WINDOW_SECONDS = 15 * 60

const BASE_DELAY_MS = 100

/** The wait before checking a password for a login that has `failures` recent failures. */
export const delayFor = (failures: number): Duration.Duration =>
  failures < SLOW_AFTER_FAILURES
    ? Duration.zero
    : Duration.min(MAX_DELAY, Duration.millis(BASE_DELAY_MS * 2 ** Math.min(failures - SLOW_AFTER_FAILURES, 16)))

export class LoginThrottle extends Effect.Service<LoginThrottle>()("scopeline/LoginThrottle", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const normalise = (login: string) => login.trim().toLowerCase()

    /**
     * Reserves one attempt before the password is checked: the attempt is stored as a failure up
     * front (and cleared on success), under a per-address advisory lock (both limits that refuse
     * count rows of one address), so parallel requests cannot all pass the count before any
     * failure is recorded.
     */
    const claimAttempt = Effect.fn("LoginThrottle.claimAttempt")(function* (login: string, address: string) {
      const name = normalise(login)
      const counted = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`SELECT pg_advisory_xact_lock(hashtext(${`login-from:${address}`}))`
          const [row] = yield* sql<{
            forLogin: number
            forAddress: number
            loginRetryAfter: number | null
            addressRetryAfter: number | null
          }>`
            SELECT count(*) FILTER (WHERE login = ${name})::int AS for_login,
                   count(*)::int AS for_address,
                   ceil(extract(epoch FROM min(failed_at) FILTER (WHERE login = ${name})
                     + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int AS login_retry_after,
                   ceil(extract(epoch FROM min(failed_at) + make_interval(secs => ${WINDOW_SECONDS}) - now()))::int AS address_retry_after
            FROM login_failures
            WHERE address = ${address} AND failed_at > now() - make_interval(secs => ${WINDOW_SECONDS})`
          const refused = (row?.forLogin ?? 0) >= MAX_FAILURES_PER_LOGIN || (row?.forAddress ?? 0) >= MAX_FAILURES_PER_ADDRESS
          if (!refused) yield* sql`INSERT INTO login_failures (login, address) VALUES (${name}, ${address})`
          return row
        }),
      ).pipe(Effect.orDie)
      if (counted && counted.forLogin >= MAX_FAILURES_PER_LOGIN) {
        return yield* tooMany(counted.loginRetryAfter, "Too many failed sign-in attempts for this login.")
      }
      if (counted && counted.forAddress >= MAX_FAILURES_PER_ADDRESS) {
        return yield* tooMany(counted.addressRetryAfter, "Too many failed sign-in attempts from your network.")
      }
      // Everyone's recent failures on this login, wherever from; this one's own reservation included.
      const [everywhere] = yield* sql<{ failures: number }>`
        SELECT count(*)::int AS failures FROM login_failures
        WHERE login = ${name} AND failed_at > now() - make_interval(secs => ${WINDOW_SECONDS})`.pipe(Effect.orDie)
      yield* Effect.sleep(delayFor((everywhere?.failures ?? 1) - 1))
      // Old rows are useless once outside the window; trimming here keeps the table small.
      yield* sql`DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => ${WINDOW_SECONDS * 2})`.pipe(
        Effect.orDie,
      )
    })

    /**
     * The password was right: this address's failures on this login are forgotten. Failures from
     * other addresses stay, or the owner signing in would reset a stranger's count.
     */
    const clear = Effect.fn("LoginThrottle.clear")(function* (login: string, address: string) {
      yield* sql`DELETE FROM login_failures WHERE login = ${normalise(login)} AND address = ${address}`.pipe(Effect.orDie)
    })

    return { claimAttempt, clear }
  }),
}) {}

const tooMany = (retryAfter: number | null, reason: string) => {
  const retryAfterSeconds = Math.max(1, retryAfter ?? WINDOW_SECONDS)
  return new TooManyRequests({
    message: `${reason} Try again in ${Math.ceil(retryAfterSeconds / 60)} minute(s).`,
    retryAfterSeconds,
  })
}
