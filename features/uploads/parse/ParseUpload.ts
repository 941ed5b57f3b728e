import { SqlClient } from "@effect/sql"
import { ActivitiesRepo } from "../ActivitiesRepo.ts"
import { UploadsRepo } from "../UploadsRepo.ts"
import { encodeJob, MatchJob, type ParseJob } from "../Jobs.ts"
import { RowError, UploadId } from "../Upload.ts"
import { enqueueInTransaction } from "@scopeline/queue/Outbox"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { Cause, Effect, Option } from "effect"
import { AuditLog } from "@scopeline/events"
import { withCorrelation } from "@scopeline/settings/Correlation"
import { recordDeadLettered } from "../deadLetters.ts"
import { FileRejected, readActivityFile } from "./readActivityFile.ts"
import { siteCodesOf } from "./ActivityRow.ts"
import { SitesRepo } from "@scopeline/sites"

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
    const audit = yield* AuditLog
    const sites = yield* SitesRepo
    const actor = { service: "parse-worker" }

    /** Marks the upload failed and records why, together. */
    const reject = (id: UploadId, reason: string, errors: ReadonlyArray<RowError>, errorCount: number, kind?: "processing") =>
      sql
        .withTransaction(
          Effect.gen(function* () {
            yield* kind === undefined ? uploads.markFailed(id, reason, errors, errorCount) : uploads.markFailed(id, reason, errors, errorCount, kind)
            yield* audit.record({
              category: "business",
              action: "upload_rejected",
              actor,
              object: { type: "upload", id },
              outcome: { status: "failure", errorCode: kind ?? "file_rejected", message: reason },
              details: { error_count: errorCount },
            })
          }),
        )
        .pipe(Effect.orDie)

    const parse = (job: ParseJob) =>
      Effect.gen(function* () {
        const id = UploadId.make(job.uploadId)
        const upload = yield* uploads.findById(id)
        if (Option.isNone(upload)) return yield* Effect.logWarning("parse job for an unknown upload; dropped")
        // Redelivery of a finished job: nothing to do, which makes the handler idempotent.
        if (!(yield* uploads.needsParse(id))) return
        yield* uploads.markParsing(id)

        // Only a missing object is the upload's problem; a storage error is retried by the queue.
        const file = yield* blobs.read(upload.value.s3ObjectUrl).pipe(
          Effect.map(Option.some),
          Effect.catchTag("BlobNotFound", () => Effect.succeed(Option.none())),
        )
        if (Option.isNone(file)) {
          const reason = "The uploaded file is missing from storage. Upload it again."
          return yield* reject(id, reason, [new RowError({ row: null, column: null, value: null, message: reason })], 1)
        }

        const outcome = yield* sql
          .withTransaction(
            Effect.gen(function* () {
              // Another worker finished it while this one waited for the lock.
              if (!(yield* uploads.lockForParse(id))) {
                file.value.destroy()
                return "already settled" as const
              }
              // Read in the transaction: a site created before the parse commits is one the file may name.
              const known = siteCodesOf(yield* sites.known)
              const { rowCount } = yield* readActivityFile(file.value, (rows) => activities.insertBatch(id, rows), known)
              yield* uploads.markParsed(id, rowCount)
              yield* enqueueInTransaction("match", encodeJob(new MatchJob({ uploadId: id, correlationId: job.correlationId })))
              yield* audit.record({
                category: "business",
                action: "upload_parsed",
                actor,
                object: { type: "upload", id },
                details: { row_count: rowCount },
              })
              return rowCount
            }),
          )
          .pipe(
            Effect.catchTag("FileRejected", (rejected: FileRejected) =>
              reject(id, rejected.reason, rejected.errors, rejected.errorCount).pipe(Effect.as("rejected" as const)),
            ),
          )
        yield* Effect.logInfo("upload parsed").pipe(Effect.annotateLogs({ outcome }))
      })

    /**
     * Runs the parse job. On the queue's last delivery a failure that is not the file's fault marks
     * the upload failed ("processing"), so nobody watches "reading rows" forever; the job then goes
     * to the dead letters, and replaying it parses the upload again.
     */
    const run = Effect.fn("ParseUpload.run")(
      function* (job: ParseJob, options: { readonly lastAttempt: boolean } = { lastAttempt: false }) {
        return yield* parse(job).pipe(
          Effect.tapErrorCause((cause) =>
            options.lastAttempt
              ? reject(
                  UploadId.make(job.uploadId),
                  "The file could not be processed after several attempts (a storage or database problem, not the file). An operator can replay it from the operations page.",
                  [],
                  0,
                  "processing",
                ).pipe(
                  Effect.zipRight(recordDeadLettered("parse", job.uploadId, Cause.squash(cause))),
                  Effect.zipRight(Effect.logError("parse failed on its last attempt", cause)),
                  Effect.ignore,
                )
              : Effect.void,
          ),
        )
      },
      (effect, job) => effect.pipe(withCorrelation(job.correlationId), Effect.annotateLogs({ uploadId: job.uploadId })),
    )

    return { run }
  }),
  dependencies: [UploadsRepo.Default, ActivitiesRepo.Default, SitesRepo.Default],
}) {}
