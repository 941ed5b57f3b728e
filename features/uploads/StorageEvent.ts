import { ParseJob } from "./Jobs.ts"
import { Schema } from "effect"

/** S3's ObjectCreated notification, as the bucket sends it to the parse queue in AWS mode. */
export const S3ObjectCreated = Schema.Struct({
  Records: Schema.Array(
    Schema.Struct({
      eventName: Schema.String,
      s3: Schema.Struct({ object: Schema.Struct({ key: Schema.String }) }),
    }),
  ),
})

/** Sent once by S3 when the notification is configured; carries nothing to do. */
export const S3TestEvent = Schema.Struct({ Event: Schema.Literal("s3:TestEvent") })

/** Everything the parse queue may carry: our own jobs and the storage's events. */
export const ParseQueueMessage = Schema.Union(ParseJob, S3ObjectCreated, S3TestEvent)

/** S3 URL-encodes keys in events, with `+` for spaces. */
export const keyOfEventRecord = (key: string) => decodeURIComponent(key.replace(/\+/g, " "))
