import { SqlClient } from "@effect/sql"
import { Config, Duration, Effect, Schedule } from "effect"
import { AuditLog } from "./AuditLog.ts"

/** AUDIT_RETENTION_DAYS: how long audit events are kept (default 400 days, at least 1). */
export const retentionDays = Config.integer("AUDIT_RETENTION_DAYS").pipe(
  Config.validate({ message: "must be a whole number of days, at least 1", validation: (days) => days >= 1 }),
  Config.withDefault(400),
)

/**
 * Deletes audit events older than the retention, the one delete the table allows: the trigger lets a
 * DELETE through only for rows older than the retention this transaction declares. The expiry is
 * itself an event, in the same transaction.
 */
export const expireAuditEvents = Effect.fn("AuditRetention.expire")(function* () {
  const sql = yield* SqlClient.SqlClient
  const audit = yield* AuditLog
  const days = yield* retentionDays
  return yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT set_config('scopeline.audit_retention_days', ${String(days)}, true)`
      const deleted = yield* sql<{ count: number }>`
        WITH gone AS (DELETE FROM audit_events WHERE occurred_at < now() - make_interval(days => ${days}) RETURNING 1)
        SELECT count(*)::int AS count FROM gone`
      const count = deleted[0]?.count ?? 0
      if (count > 0) {
        yield* audit.record({
          category: "system",
          action: "audit_events_expired",
          actor: { service: "audit-retention" },
          object: { type: "audit_log", id: "audit_events" },
          details: { deleted: count, retention_days: days },
        })
      }
      return count
    }),
  )
}, Effect.orDie)

/** Runs the expiry at start and then hourly, for the life of the worker. */
export const runAuditRetention = expireAuditEvents().pipe(
  Effect.catchAllCause((cause) => Effect.logWarning("audit retention failed; retrying in an hour", cause)),
  Effect.repeat(Schedule.spaced(Duration.hours(1))),
)
