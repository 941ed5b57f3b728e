import { SqlClient } from "@effect/sql"
import { AppConfig } from "@scopeline/settings/AppConfig"
import { ServiceName } from "@scopeline/settings/Correlation"
import { Effect } from "effect"
import { AuditLog } from "./AuditLog.ts"

/**
 * At start-up: a version this log has not seen yet is a release, recorded once however many
 * processes start with it (they serialise on an advisory lock and the first one records it).
 */
export const recordRelease = Effect.fn("Releases.record")(function* () {
  const sql = yield* SqlClient.SqlClient
  const audit = yield* AuditLog
  const { version } = yield* AppConfig
  const service = yield* ServiceName
  yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(hashtext('scopeline:release_started'))`
      const seen = yield* sql<{ seen: boolean }>`
        SELECT EXISTS (SELECT 1 FROM audit_events WHERE action = 'release_started' AND context->>'version' = ${version}) AS seen`
      if (seen[0]?.seen === true) return
      yield* audit.record({
        category: "delivery",
        action: "release_started",
        actor: { service },
        object: { type: "release", id: version },
        details: { version, first_process: service },
      })
    }),
  )
}, Effect.orDie)
