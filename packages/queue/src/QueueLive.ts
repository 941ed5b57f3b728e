import { Config, Effect, Layer } from "effect"
import { PgQueueLive } from "./PgQueue.ts"
import { SqsQueueLive } from "./SqsQueue.ts"

/** QUEUE=postgres (default: tables in the app's database) or sqs (SQS_*_QUEUE_URL, …). */
export const QueueLive = Layer.unwrapEffect(
  Config.literal("postgres", "sqs")("QUEUE").pipe(
    Config.withDefault("postgres" as const),
    Effect.map((kind) => (kind === "sqs" ? SqsQueueLive : PgQueueLive)),
  ),
)
