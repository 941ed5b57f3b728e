import { Config, Effect } from "effect"
import { settings } from "./Settings.ts"

/**
 * How many deliveries a queue message gets, read once per process and shared by everyone who must
 * agree on it: the PostgreSQL queue (when it dead-letters), and the parse and match jobs (when a
 * delivery is the last one, so they record the failure instead of leaving the work waiting). With SQS
 * the queue's redrive policy decides, so the stack passes its maxReceiveCount as QUEUE_MAX_RECEIVES.
 */
/** Deliveries of an export job before it is dead-lettered: the first and two retries. */
export const EXPORT_MAX_RECEIVES = 3

export class QueueSettings extends Effect.Service<QueueSettings>()("scopeline/QueueSettings", {
  effect: Effect.gen(function* () {
    const maxReceives = yield* Config.integer("QUEUE_MAX_RECEIVES").pipe(
      Config.validate({ message: "must be at least 1", validation: (n) => n >= 1 }),
      Config.withDefault(Number(settings.QUEUE_MAX_RECEIVES.default)),
    )
    // Exports retry twice (three deliveries), whatever the pipeline's setting: a failing export is
    // usually a failing store, and the person waiting for the file should hear so within a minute.
    const maxReceivesOf = (queue: string) => (queue === "export" ? EXPORT_MAX_RECEIVES : maxReceives)
    return { maxReceives, maxReceivesOf } as const
  }),
}) {}
