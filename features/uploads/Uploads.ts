import { SqlClient } from "@effect/sql"
import { can } from "@scopeline/accounts"
import { UploadsRepo } from "./UploadsRepo.ts"
import { UploadNotFound, UploadNotYetStored, UploadNotYours } from "./errors.ts"
import { encodeJob, ParseJob } from "./Jobs.ts"
import { type Upload, UploadId } from "./Upload.ts"
import type { Principal } from "@scopeline/accounts"
import { enqueueInTransaction } from "@scopeline/queue/Outbox"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { Config, Effect, FiberRef, Option, Schema } from "effect"
import { type ActorInput, AuditLog } from "@scopeline/events"
import { CurrentCorrelationId } from "@scopeline/settings/Correlation"

/** Object keys of uploads: `uploads/<upload id>.csv` (the bucket's lifecycle and events use the prefix). */
export const objectKeyOf = (id: UploadId) => `uploads/${id}.csv`
export const uploadIdOfKey = (key: string): Option.Option<UploadId> => {
  const match = /^uploads\/([0-9a-f-]{36})\.csv$/.exec(key)
  return match ? Option.some(UploadId.make(match[1]!)) : Option.none()
}

/** An upload by id, or by the upload URL it was given (with the origin the client reached us at). */
export type UploadReference = { readonly uploadId: string } | { readonly presignedUrl: string; readonly requestOrigin: string }

/**
 * The upload workflow's entry points: issue a signed upload target, then confirm the file arrived.
 * Confirming marks the upload `uploaded` and enqueues its parse job in one transaction (outbox).
 */
export class Uploads extends Effect.Service<Uploads>()("scopeline/Uploads", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* UploadsRepo
    const blobs = yield* BlobStore
    const audit = yield* AuditLog
    const maxBytes = yield* Config.integer("MAX_UPLOAD_BYTES").pipe(Config.withDefault(200 * 1024 * 1024))
    const urlTtlSeconds = yield* Config.integer("UPLOAD_URL_TTL_SECONDS").pipe(Config.withDefault(15 * 60))

    /**
     * A new upload record and its signed target. The upload keeps the correlation id of the request
     * that created it: its notify, parse and match jobs and all their events carry it.
     */
    const begin = Effect.fn("Uploads.begin")(function* (principal: Principal, options: { readonly filename: string | null }) {
      const id = UploadId.make(crypto.randomUUID())
      const key = objectKeyOf(id)
      const correlationId = Option.getOrElse(yield* FiberRef.get(CurrentCorrelationId), () => crypto.randomUUID())
      yield* sql
        .withTransaction(
          Effect.gen(function* () {
            yield* repo.create({
              id,
              accountant: principal.userId,
              objectKey: key,
              maxBytes,
              originalFilename: options.filename,
              correlationId,
            })
            yield* audit.record({
              category: "business",
              action: "upload_created",
              actor: { userId: principal.userId, role: principal.role },
              object: { type: "upload", id },
              correlationId,
              details: { filename: options.filename, max_bytes: maxBytes },
            })
          }),
        )
        .pipe(Effect.orDie)
      const target = yield* blobs
        .createUploadTarget(key, { maxBytes, expiresInSeconds: urlTtlSeconds, contentType: "text/csv" })
        .pipe(Effect.orDie)
      return { uploadId: id, target }
    })

    const resolve = (reference: UploadReference) =>
      Effect.gen(function* () {
        const id =
          "uploadId" in reference
            ? Schema.decodeUnknownOption(UploadId)(reference.uploadId)
            : Option.flatMap(blobs.keyOfUrl(reference.presignedUrl, reference.requestOrigin), uploadIdOfKey)
        const upload = yield* Option.match(id, { onNone: () => Effect.succeed(Option.none<Upload>()), onSome: repo.findById })
        return yield* Option.match(upload, {
          onNone: () => Effect.fail(new UploadNotFound({ message: "There is no such upload." })),
          onSome: Effect.succeed,
        })
      })

    /** Marks the upload uploaded and enqueues its parse, once; later calls change nothing. */
    const markArrived = (upload: Upload, by: ActorInput) =>
      Effect.gen(function* () {
        if (upload.status !== "pending_upload") return false
        const stored = yield* blobs.head(upload.s3ObjectUrl).pipe(Effect.orDie)
        if (Option.isNone(stored)) {
          return yield* new UploadNotYetStored({
            message: "The file has not arrived in storage yet. Upload it to the URL you were given, then confirm.",
            details: { upload_id: upload.id, status: upload.status },
          })
        }
        return yield* sql
          .withTransaction(
            Effect.gen(function* () {
              const changed = yield* repo.markUploaded(upload.id, stored.value.size)
              if (changed) {
                const correlationId = upload.correlationId ?? upload.id
                yield* enqueueInTransaction("parse", encodeJob(new ParseJob({ uploadId: upload.id, correlationId })))
                yield* audit.record({
                  category: "business",
                  action: "upload_confirmed",
                  actor: by,
                  object: { type: "upload", id: upload.id },
                  correlationId,
                  details: { size_bytes: stored.value.size },
                })
              }
              return changed
            }),
          )
          .pipe(Effect.orDie)
      })

    const confirm = Effect.fn("Uploads.confirm")(function* (principal: Principal, reference: UploadReference) {
      const upload = yield* resolve(reference)
      // Accountants confirm their own uploads; whoever may administer may confirm any.
      if (upload.accountant !== principal.userId && !can(principal.role, "administer")) {
        const refused = new UploadNotYours({ message: "This upload belongs to another user." })
        // A refusal by ownership, not by role: recorded like the guard's refusals.
        yield* audit.recordRefusal({
          category: "security",
          action: "permission_denied",
          actor: { userId: principal.userId, role: principal.role },
          object: { type: "upload", id: upload.id },
          outcome: { status: "failure", errorCode: refused.code, message: refused.message },
          details: { reason: "not the upload's owner" },
        })
        return yield* refused
      }
      return yield* markArrived(upload, { userId: principal.userId, role: principal.role })
    })

    /** The storage's own "object created" event (S3 notifications): same effect as a confirm. */
    const confirmStored = Effect.fn("Uploads.confirmStored")(function* (key: string) {
      const id = uploadIdOfKey(key)
      if (Option.isNone(id)) return false
      const upload = yield* repo.findById(id.value)
      if (Option.isNone(upload)) return false
      return yield* markArrived(upload.value, { service: "storage-events" }).pipe(Effect.catchTag("UploadNotYetStored", () => Effect.succeed(false)))
    })

    return { begin, confirm, confirmStored, maxBytes, urlTtlSeconds }
  }),
  dependencies: [UploadsRepo.Default],
}) {}
