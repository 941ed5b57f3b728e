import { ParseJob } from "./Jobs.ts"
import { ParseUpload } from "./parse/ParseUpload.ts"
import { Uploads } from "./Uploads.ts"
import { keyOfEventRecord, ParseQueueMessage } from "./StorageEvent.ts"
import { consume } from "@scopeline/queue/Consumer"
import { QueueSettings } from "@scopeline/settings/QueueSettings"
import { Config, Effect, Layer } from "effect"

/**
 * Consumes the parse queue. A storage event (S3 ObjectCreated) confirms the upload exactly as the
 * client's notify would, so a lost notify cannot strand a file; a parse job parses the file.
 */
export const ParseWorkerLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const concurrency = yield* Config.integer("PARSE_CONCURRENCY").pipe(Config.withDefault(2))
    // A worker that dies mid-parse releases its message after this long (heartbeats extend it while alive).
    const visibilityTimeoutSeconds = yield* Config.integer("PARSE_VISIBILITY_TIMEOUT_SECONDS").pipe(Config.withDefault(60))
    // The same value the queue dead-letters by (SQS: the redrive policy's maxReceiveCount, passed by the stack).
    const { maxReceives } = yield* QueueSettings
    const parse = yield* ParseUpload
    const uploads = yield* Uploads
    yield* consume(
      "parse",
      ParseQueueMessage,
      (message, delivery) => {
        if (message instanceof ParseJob) return parse.run(message, { lastAttempt: delivery.receiveCount >= maxReceives })
        if ("Records" in message) {
          return Effect.forEach(
            message.Records.filter((record) => record.eventName.startsWith("ObjectCreated")),
            (record) => uploads.confirmStored(keyOfEventRecord(record.s3.object.key)),
            { discard: true },
          )
        }
        return Effect.void
      },
      { concurrency, visibilityTimeoutSeconds },
    ).pipe(Effect.forkScoped)
    yield* Effect.logInfo("parse worker started").pipe(Effect.annotateLogs({ concurrency }))
  }),
).pipe(Layer.provide(QueueSettings.Default))
