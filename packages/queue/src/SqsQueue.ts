import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs"
import { AwsConfig, awsClientOptions } from "@scopeline/settings/AwsConfig"
import { Config, Duration, Effect, Layer, Option, Schema } from "effect"
import { type DeadLetter, Queue, QueueError, type QueueName, type ReceivedMessage, type ReceiveOptions } from "./Queue.ts"
import { withTraceContext } from "./TraceContext.ts"

/**
 * AWS mode's Queue (QUEUE=sqs). Settings (env vars of the same name):
 * - `SQS_PARSE_QUEUE_URL`, `SQS_MATCH_QUEUE_URL`: the work queues, each with a RedrivePolicy
 *   (maxReceiveCount) to its dead-letter queue; the infra creates both.
 * - `SQS_PARSE_DLQ_URL`, `SQS_MATCH_DLQ_URL`: those dead-letter queues (for deadLetters / replay).
 * - `SQS_EXPORT_QUEUE_URL`, `SQS_EXPORT_DLQ_URL`: the export queue and its dead letters (optional).
 * - `AWS_REGION` (default us-east-1), `SQS_ENDPOINT` (fauxqs, ElasticMQ), optional static credentials
 *   `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else the SDK's default chain.
 */
export const SqsQueueConfig = Config.all({
  aws: AwsConfig,
  endpoint: Config.option(Config.url("SQS_ENDPOINT")),
  queues: Config.all({
    parse: Config.all({ url: Config.nonEmptyString("SQS_PARSE_QUEUE_URL"), dlq: Config.nonEmptyString("SQS_PARSE_DLQ_URL") }),
    match: Config.all({ url: Config.nonEmptyString("SQS_MATCH_QUEUE_URL"), dlq: Config.nonEmptyString("SQS_MATCH_DLQ_URL") }),
  }),
  // Optional: a stack from before exports has none, and the server then refuses exports (503).
  exportQueue: Config.option(
    Config.all({ url: Config.nonEmptyString("SQS_EXPORT_QUEUE_URL"), dlq: Config.nonEmptyString("SQS_EXPORT_DLQ_URL") }),
  ),
})
export type SqsQueueConfig = Config.Config.Success<typeof SqsQueueConfig>

// SQS's own limits: at most 10 messages per receive, at most 20 s of long polling.
const MAX_BATCH = 10
const MAX_WAIT_SECONDS = 20
/**
 * How many dead letters one listing or replay looks at. SQS cannot list a queue, only receive from
 * it, so both walk the DLQ by receiving; the cap bounds that walk (the ops page shows the count from
 * `depth` as well, so a truncated list is visible as such).
 */
export const DEAD_LETTER_SCAN_LIMIT = 100
/** Long enough that the walk's successive receives return new messages rather than the same ones. */
const PEEK_VISIBILITY_SECONDS = 30

const NOT_DEPLOYED = { url: "", dlq: "" } as const

const Count = Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())

/** The fields we rely on in an SQS message; anything missing is a broken response, not a message. */
const SqsMessage = Schema.Struct({
  MessageId: Schema.String,
  ReceiptHandle: Schema.String,
  Body: Schema.String,
  Attributes: Schema.Struct({
    ApproximateReceiveCount: Count,
    SentTimestamp: Schema.optional(Count),
  }),
})
const SqsMessages = Schema.Array(SqsMessage)
type SqsMessage = typeof SqsMessage.Type

const DepthAttributes = Schema.Struct({
  ApproximateNumberOfMessages: Count,
  ApproximateNumberOfMessagesNotVisible: Count,
})

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.trunc(n)))

export const makeSqsClient = (config: SqsQueueConfig) =>
  new SQSClient({
    // The socket timeout stays above the 20 s long-poll wait.
    ...awsClientOptions(config.aws, 30_000),
    ...(Option.isSome(config.endpoint) ? { endpoint: config.endpoint.value.toString().replace(/\/+$/, "") } : {}),
  })

/** Builds the service from already-read settings (the layer below reads them from Config). */
export const makeSqsQueue = (config: SqsQueueConfig, client: SQSClient) => {
  // Without an export queue (an older stack; the server then refuses exports): an empty pair that
  // reports no depth and no dead letters, so the ops page lists it like the others.
  const urls: Record<QueueName, { readonly url: string; readonly dlq: string }> = {
    ...config.queues,
    export: Option.getOrElse(config.exportQueue, () => NOT_DEPLOYED),
  }
  const deployed = (queue: QueueName) => urls[queue].url !== ""

  /**
   * One SDK call as an Effect: interruption aborts the HTTP request (a worker shutting down does not
   * wait out a 20 s long poll). Failures stay typed QueueErrors, never defects: throttling and
   * network errors are retryable and the caller's retry policy must see them. (The SDK already
   * retries transient errors itself, three attempts with backoff.)
   */
  const call = <A>(queue: QueueName, operation: string, send: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({ try: send, catch: (cause) => new QueueError({ operation, queue, cause }) })

  const decode =
    <A, I>(schema: Schema.Schema<A, I>, queue: QueueName, operation: string) =>
    (input: unknown) =>
      Schema.decodeUnknown(schema)(input).pipe(Effect.mapError((cause) => new QueueError({ operation, queue, cause })))

  const receiveFrom = (
    queue: QueueName,
    operation: string,
    queueUrl: string,
    options: { readonly maxMessages: number; readonly waitSeconds: number; readonly visibilityTimeoutSeconds: number },
  ) =>
    call(queue, operation, (signal) =>
      client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: clamp(options.maxMessages, 1, MAX_BATCH),
          WaitTimeSeconds: clamp(options.waitSeconds, 0, MAX_WAIT_SECONDS),
          VisibilityTimeout: clamp(options.visibilityTimeoutSeconds, 0, 43_200),
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
        { abortSignal: signal },
      ),
    ).pipe(Effect.flatMap((out) => decode(SqsMessages, queue, operation)(out.Messages ?? [])))

  const sendTraced = Effect.fn("SqsQueue.send")(function* (queue: QueueName, body: string) {
    yield* call(queue, "send", (signal) =>
      client.send(new SendMessageCommand({ QueueUrl: urls[queue].url, MessageBody: body }), { abortSignal: signal }),
    )
  })
  // The context is the caller's span, taken before the send's own span opens.
  const send = (queue: QueueName, body: string) => Effect.flatMap(withTraceContext(body), (traced) => sendTraced(queue, traced))

  const receive = Effect.fn("SqsQueue.receive")(function* (queue: QueueName, options: ReceiveOptions) {
    // A worker told to consume a queue the stack lacks idles, as on an empty queue, rather than failing.
    if (!deployed(queue)) return yield* Effect.as(Effect.sleep(Duration.seconds(options.waitSeconds)), [])
    const messages = yield* receiveFrom(queue, "receive", urls[queue].url, options)
    return messages.map(
      (m): ReceivedMessage => ({
        id: m.MessageId,
        receipt: m.ReceiptHandle,
        body: m.Body,
        receiveCount: m.Attributes.ApproximateReceiveCount,
      }),
    )
  })

  const ack = Effect.fn("SqsQueue.ack")(function* (queue: QueueName, receipt: string) {
    yield* call(queue, "ack", (signal) =>
      client.send(new DeleteMessageCommand({ QueueUrl: urls[queue].url, ReceiptHandle: receipt }), {
        abortSignal: signal,
      }),
    )
  })

  const extendVisibility = Effect.fn("SqsQueue.extendVisibility")(function* (
    queue: QueueName,
    receipt: string,
    seconds: number,
  ) {
    yield* call(queue, "extendVisibility", (signal) =>
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: urls[queue].url,
          ReceiptHandle: receipt,
          VisibilityTimeout: clamp(seconds, 0, 43_200),
        }),
        { abortSignal: signal },
      ),
    )
  })

  /**
   * The backoff is the message's visibility: it comes back after `retryInSeconds`. SQS has nowhere to
   * keep `error` with the message (a message cannot be edited), so it is logged, and a dead letter's
   * `lastError` stays null; the worker's own logs carry the full history by correlation id.
   */
  const fail = Effect.fn("SqsQueue.fail")(function* (
    queue: QueueName,
    receipt: string,
    error: string,
    retryInSeconds: number,
  ) {
    yield* Effect.logDebug("message failed; retrying after its backoff").pipe(
      Effect.annotateLogs({ queue, error, retryInSeconds }),
    )
    yield* call(queue, "fail", (signal) =>
      client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: urls[queue].url,
          ReceiptHandle: receipt,
          VisibilityTimeout: clamp(retryInSeconds, 0, 43_200),
        }),
        { abortSignal: signal },
      ),
    )
  })

  const countsOf = (queue: QueueName, url: string) =>
    call(queue, "depth", (signal) =>
      client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
        { abortSignal: signal },
      ),
    ).pipe(Effect.flatMap((out) => decode(DepthAttributes, queue, "depth")(out.Attributes ?? {})))

  // The dead-letter count comes from the DLQ's attributes, like the queue's own: a peek would
  // receive the dead letters, hiding them from a concurrent listing and raising their receive counts.
  const depth = Effect.fn("SqsQueue.depth")(function* (queue: QueueName) {
    if (!deployed(queue)) return { visible: 0, inFlight: 0, deadLetters: 0 }
    const [work, dead] = yield* Effect.all([countsOf(queue, urls[queue].url), countsOf(queue, urls[queue].dlq)], {
      concurrency: 2,
    })
    return {
      visible: work.ApproximateNumberOfMessages,
      inFlight: work.ApproximateNumberOfMessagesNotVisible,
      deadLetters: dead.ApproximateNumberOfMessages + dead.ApproximateNumberOfMessagesNotVisible,
    }
  })

  /** Makes peeked dead letters visible again at once, so a replay right after a listing finds them. */
  const release = (queue: QueueName, operation: string, messages: ReadonlyArray<SqsMessage>) =>
    Effect.forEach(
      Array.from({ length: Math.ceil(messages.length / MAX_BATCH) }, (_, i) =>
        messages.slice(i * MAX_BATCH, (i + 1) * MAX_BATCH),
      ),
      (batch) =>
        call(queue, operation, (signal) =>
          client.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: urls[queue].dlq,
              Entries: batch.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
            }),
            { abortSignal: signal },
          ),
        ),
      { discard: true },
    )

  /**
   * Walks the dead-letter queue by receiving from it (SQS has no "list"), until `stop` picks a
   * message, the queue yields nothing new, or the scan limit is reached. Every other received message
   * is released again, also when the walk fails or is interrupted; the picked one stays hidden for
   * PEEK_VISIBILITY_SECONDS under the returned receipt.
   */
  const walkDeadLetters = (
    queue: QueueName,
    operation: string,
    stop: (message: SqsMessage) => boolean,
  ): Effect.Effect<{ readonly seen: ReadonlyArray<SqsMessage>; readonly picked: Option.Option<SqsMessage> }, QueueError> =>
    Effect.gen(function* () {
      const seen = new Map<string, SqsMessage>()
      let picked = Option.none<SqsMessage>()
      const walk = Effect.gen(function* () {
        while (seen.size < DEAD_LETTER_SCAN_LIMIT && Option.isNone(picked)) {
          const batch = yield* receiveFrom(queue, operation, urls[queue].dlq, {
            maxMessages: Math.min(MAX_BATCH, DEAD_LETTER_SCAN_LIMIT - seen.size),
            waitSeconds: 0,
            visibilityTimeoutSeconds: PEEK_VISIBILITY_SECONDS,
          })
          const fresh = batch.filter((m) => !seen.has(m.MessageId))
          if (fresh.length === 0) break
          for (const m of fresh) {
            seen.set(m.MessageId, m)
            if (Option.isNone(picked) && stop(m)) picked = Option.some(m)
          }
        }
      })
      yield* walk.pipe(
        Effect.ensuring(
          Effect.suspend(() =>
            release(
              queue,
              operation,
              Array.from(seen.values()).filter((m) => Option.isNone(picked) || m !== picked.value),
            ),
          ).pipe(
            // A failed release only delays those messages' visibility by PEEK_VISIBILITY_SECONDS.
            Effect.catchAll((error) => Effect.logWarning("could not release peeked dead letters", error)),
          ),
        ),
      )
      return { seen: Array.from(seen.values()), picked }
    })

  /**
   * SQS limitation: this is a peek by receiving. Listing makes each listed message invisible for a
   * moment and releases it right after, increments its receive count, and, while it runs, hides the
   * messages from a concurrent listing or replay. SQS keeps no failure reason, so `lastError` is null,
   * and no time of dead-lettering, so `deadAt` is the original send time.
   */
  const deadLetters = Effect.fn("SqsQueue.deadLetters")(function* (queue: QueueName) {
    if (!deployed(queue)) return []
    const { seen } = yield* walkDeadLetters(queue, "deadLetters", () => false)
    return seen.map(
      (m): DeadLetter => ({
        id: m.MessageId,
        queue,
        body: m.Body,
        // Our own peek counted as a receive; report the deliveries before it.
        receiveCount: Math.max(0, m.Attributes.ApproximateReceiveCount - 1),
        lastError: null,
        deadAt: new Date(m.Attributes.SentTimestamp ?? Date.now()),
      }),
    )
  })

  /**
   * Sends the dead letter's body to its work queue as a new message (so its receive count starts at
   * zero), then deletes it from the DLQ. In that order: a crash between the two leaves a duplicate,
   * never a loss, and every handler is idempotent.
   */
  const replay = Effect.fn("SqsQueue.replay")(function* (queue: QueueName, deadLetterId: string) {
    if (!deployed(queue)) return undefined
    const { picked } = yield* walkDeadLetters(queue, "replay", (m) => m.MessageId === deadLetterId)
    if (Option.isNone(picked)) return undefined
    const message = picked.value
    yield* call(queue, "replay", (signal) =>
      client.send(new SendMessageCommand({ QueueUrl: urls[queue].url, MessageBody: message.Body }), {
        abortSignal: signal,
      }),
    )
    yield* call(queue, "replay", (signal) =>
      client.send(new DeleteMessageCommand({ QueueUrl: urls[queue].dlq, ReceiptHandle: message.ReceiptHandle }), {
        abortSignal: signal,
      }),
    )
    return message.Body
  })

  return Queue.of({ send, receive, ack, extendVisibility, fail, depth, deadLetters, replay })
}

/** Queue backed by SQS (QUEUE=sqs); dead-lettering itself is SQS's redrive policy. */
export const SqsQueueLive = Layer.scoped(
  Queue,
  Effect.gen(function* () {
    const config = yield* SqsQueueConfig
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => makeSqsClient(config)),
      (client) => Effect.sync(() => client.destroy()),
    )
    return makeSqsQueue(config, client)
  }),
)
