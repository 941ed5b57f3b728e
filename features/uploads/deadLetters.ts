import { SqlClient } from "@effect/sql"
import { AuditLog } from "@scopeline/events"
import { Webhooks } from "@scopeline/webhooks"
import { Effect } from "effect"

/**
 * The job's last delivery failed: the queue moves it to its dead letters (an operator can replay
 * it from the operations page). Recorded as it happens, under the job's correlation id.
 */
export const recordDeadLettered = (queue: "parse" | "match", uploadId: string, error: unknown) =>
  Effect.gen(function* () {
    const audit = yield* AuditLog
    const webhooks = yield* Webhooks
    const sql = yield* SqlClient.SqlClient
    const message = error instanceof Error ? error.message : String(error)
    // The event and its webhook deliveries together; failing to write them never changes the job's fate.
    yield* sql
      .withTransaction(
        Effect.gen(function* () {
          yield* audit.record({
            category: "system",
            action: "job_dead_lettered",
            actor: { service: `${queue}-worker` },
            object: { type: "upload", id: uploadId },
            outcome: { status: "failure", errorCode: "last_attempt_failed", message },
            details: { queue },
          })
          yield* webhooks.publish({ type: "job.dead_lettered", key: `${queue}:${uploadId}`, payload: { queue, upload_id: uploadId, reason: message.slice(0, 500) } })
        }),
      )
      .pipe(Effect.catchAllCause((cause) => Effect.logWarning("the dead letter's audit event could not be written", cause)))
  })
