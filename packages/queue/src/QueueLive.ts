import { Config, Effect, Layer } from "effect"
import { PgQueueLive } from "./PgQueue.ts"

/**
 * QUEUE=postgres (default: tables in the app's database) or sqs (SQS_*_QUEUE_URL, …). The SQS adapter
 * is imported only in that mode: the AWS SDK adds about 30 MB to every process that loads it.
 */
export const QueueLive = Layer.unwrapEffect(
  Config.literal("postgres", "sqs")("QUEUE").pipe(
    Config.withDefault("postgres" as const),
    Effect.flatMap((kind) =>
      kind === "sqs" ? Effect.promise(() => import("./SqsQueue.ts")).pipe(Effect.map((sqs) => sqs.SqsQueueLive)) : Effect.succeed(PgQueueLive),
    ),
  ),
)
