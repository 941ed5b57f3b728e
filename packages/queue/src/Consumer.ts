import { Cause, Duration, Effect, Exit, Option, Schedule, Schema } from "effect"
import type { ParseError } from "effect/ParseResult"
import { Queue, type QueueName, type ReceivedMessage } from "./Queue.ts"
import { traceContextOf } from "./TraceContext.ts"

export interface ConsumerOptions {
  /** Messages handled at the same time by this process. */
  readonly concurrency: number
  /** How long a received message stays invisible to other consumers; extended while the handler runs. */
  readonly visibilityTimeoutSeconds: number
  /** Wait for messages this long per receive call (long polling). */
  readonly waitSeconds?: number
  /** Seconds before a failed message is seen again, by its receive count (default: `retryDelaySeconds`). */
  readonly retryDelaySeconds?: (receiveCount: number) => number
}

/** Backoff before a failed message is seen again: 2 s, 4 s, 8 s … capped at 5 minutes. */
export const retryDelaySeconds = (receiveCount: number) => Math.min(300, 2 ** Math.max(1, receiveCount))

/**
 * Consumes a queue forever: decodes each body with `schema`, runs `handle`, acks on success and
 * hands failures back to the queue with a backoff (after the queue's max receives, it dead-letters
 * them). While a handler runs, a heartbeat keeps extending the message's visibility, so a long parse
 * is never delivered twice, while a crashed worker's message reappears after one timeout.
 */
export const consume = <A, I, E, R>(
  queue: QueueName,
  schema: Schema.Schema<A, I>,
  handle: (message: A, delivery: ReceivedMessage) => Effect.Effect<void, E, R>,
  options: ConsumerOptions,
) =>
  Effect.gen(function* () {
    const queues = yield* Queue
    const decode = Schema.decodeUnknown(Schema.parseJson(schema))
    const heartbeat = (receipt: string) =>
      queues.extendVisibility(queue, receipt, options.visibilityTimeoutSeconds).pipe(
        Effect.catchAll((error) => Effect.logWarning("could not extend visibility", error)),
        Effect.repeat(Schedule.spaced(Duration.seconds(Math.max(1, options.visibilityTimeoutSeconds / 3)))),
        Effect.delay(Duration.seconds(Math.max(1, options.visibilityTimeoutSeconds / 3))),
      )

    const settle = (delivery: ReceivedMessage, exit: Exit.Exit<void, E | ParseError>) =>
      Exit.isSuccess(exit)
        ? queues.ack(queue, delivery.receipt)
        : Effect.logWarning("message handling failed; it will be retried").pipe(
            Effect.annotateLogs({ receiveCount: delivery.receiveCount, error: Cause.pretty(exit.cause).slice(0, 2000) }),
            Effect.zipRight(
              queues.fail(
                queue,
                delivery.receipt,
                Cause.pretty(exit.cause).split("\n")[0] ?? "failed",
                (options.retryDelaySeconds ?? retryDelaySeconds)(delivery.receiveCount),
              ),
            ),
          )

    const process = (delivery: ReceivedMessage) =>
      Effect.scoped(
        Effect.gen(function* () {
          yield* Effect.forkScoped(heartbeat(delivery.receipt))
          return yield* decode(delivery.body).pipe(
            Effect.flatMap((message) => handle(message, delivery)),
            Effect.exit,
          )
        }),
      ).pipe(
        Effect.flatMap((exit) => settle(delivery, exit)),
        Effect.annotateLogs({ queue, messageId: delivery.id }),
        // A child of the span that sent the message, so one upload is one trace across processes.
        Effect.withSpan(`consume.${queue}`, {
          kind: "consumer",
          attributes: { "messaging.message.id": delivery.id, receiveCount: delivery.receiveCount },
          ...Option.match(traceContextOf(delivery.body), { onNone: () => ({}), onSome: (parent) => ({ parent }) }),
        }),
        Effect.catchAllCause((cause) => Effect.logError("queue operation failed", cause)),
      )

    // Each slot receives one message only when it is free: nothing waits in a local buffer while
    // its visibility timeout runs out.
    const slot = queues
      .receive(queue, {
        maxMessages: 1,
        waitSeconds: options.waitSeconds ?? 10,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      })
      .pipe(
        Effect.tapError((error) => Effect.logError("receive failed; retrying", error)),
        Effect.retry(Schedule.exponential(Duration.millis(200)).pipe(Schedule.union(Schedule.spaced(Duration.seconds(5))))),
        Effect.flatMap((deliveries) => Effect.forEach(deliveries, process, { discard: true })),
        Effect.forever,
      )

    return yield* Effect.all(Array.from({ length: options.concurrency }, () => slot), {
      concurrency: "unbounded",
      discard: true,
    })
  })
