import { SqlClient } from "@effect/sql"
import { ActivitiesRepo } from "@scopeline/db/ActivitiesRepo"
import { UploadsRepo } from "@scopeline/db/UploadsRepo"
import { encodeJob, MatchJob, type ParseJob } from "@scopeline/domain/Messages"
import { isSettled, RowError, UploadId } from "@scopeline/domain/Upload"
import { enqueueInTransaction } from "@scopeline/queue/Outbox"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { Effect, Option } from "effect"
import { FileRejected, readActivityFile } from "./readActivityFile.ts"

/**
 * The parse job, all or nothing: every row of the file is validated and stored in ONE transaction
 * that also marks the upload `parsed` and enqueues its matching. Any bad row rolls everything back
 * and the upload is marked `failed` with the row errors. A worker that dies midway leaves no rows
 * (the transaction never committed), so redelivery re-parses to exactly the same result.
 */
export class ParseUpload extends Effect.Service<ParseUpload>()("scopeline/ParseUpload", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const uploads = yield* UploadsRepo
    const activities = yield* ActivitiesRepo
    const blobs = yield* BlobStore

    const run = Effect.fn("ParseUpload.run")(function* (job: ParseJob) {
      const id = UploadId.make(job.uploadId)
      const upload = yield* uploads.findById(id)
      if (Option.isNone(upload)) return yield* Effect.logWarning("parse job for an unknown upload; dropped")
      // Redelivery of a finished job: nothing to do, which makes the handler idempotent.
      if (isSettled(upload.value.status) || upload.value.status === "pending_upload") return
      yield* uploads.markParsing(id)

      const file = yield* blobs.read(upload.value.s3ObjectUrl).pipe(Effect.option)
      if (Option.isNone(file)) {
        const reason = "The uploaded file is missing from storage. Upload it again."
        return yield* uploads.markFailed(id, reason, [new RowError({ row: null, column: null, value: null, message: reason })], 1)
      }

      const outcome = yield* sql
        .withTransaction(
          Effect.gen(function* () {
            const status = yield* uploads.lockForParse(id)
            // Another worker finished it while this one waited for the lock.
            if (Option.isSome(status) && isSettled(status.value)) {
              file.value.destroy()
              return "already settled" as const
            }
            const { rowCount } = yield* readActivityFile(file.value, (rows) => activities.insertBatch(id, rows))
            yield* uploads.markParsed(id, rowCount)
            yield* enqueueInTransaction("match", encodeJob(new MatchJob({ uploadId: id, correlationId: job.correlationId })))
            return rowCount
          }),
        )
        .pipe(
          Effect.catchTag("FileRejected", (rejected: FileRejected) =>
            uploads.markFailed(id, rejected.reason, rejected.errors, rejected.errorCount).pipe(Effect.as("rejected" as const)),
          ),
        )
      yield* Effect.logInfo("upload parsed").pipe(Effect.annotateLogs({ outcome }))
    }, (effect, job) => Effect.annotateLogs(effect, { uploadId: job.uploadId, correlationId: job.correlationId }))

    return { run }
  }),
  dependencies: [UploadsRepo.Default, ActivitiesRepo.Default],
}) {}
