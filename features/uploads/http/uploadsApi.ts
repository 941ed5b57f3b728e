import { guard } from "@scopeline/accounts"
import { UploadsRepo } from "../UploadsRepo.ts"
import { UploadNotFound } from "../errors.ts"
import type { Upload } from "../Upload.ts"
import { UploadId } from "../Upload.ts"
import { Uploads } from "../Uploads.ts"
import { UploadProgress } from "../UploadProgress.ts"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody, QueryInt } from "@scopeline/ui/decode"
import { CORRELATION_HEADER, json, type Responder } from "@scopeline/ui/respond"
import type { UploadsServices } from "./services.ts"

const NotifyRequest = Schema.Union(
  Schema.Struct({ upload_id: Schema.String }),
  Schema.Struct({ presigned_url: Schema.String.pipe(Schema.minLength(1)) }),
)

export const PageQuery = Schema.Struct({
  offset: Schema.optionalWith(QueryInt, { default: () => 0 }),
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 200)), { default: () => 25 }),
})

const NewUploadQuery = Schema.Struct({
  filename: Schema.optional(Schema.String.pipe(Schema.maxLength(255))),
})

/** Activity counts per status for one upload: the matching progress. */
export const activityCounts = (uploadId: UploadId) =>
  Effect.gen(function* () {
    const progress = yield* UploadProgress
    const counts = (yield* progress.statusCounts([uploadId])).get(uploadId)
    return {
      ingested: counts?.ingested ?? 0,
      matching: counts?.matching ?? 0,
      calculated: counts?.calculated ?? 0,
      failed: counts?.failed ?? 0,
    }
  })

export const uploadJson = (upload: Upload, counts?: Record<string, number>) => ({
  id: upload.id,
  url: `/v1/uploads/${upload.id}`,
  status: upload.status,
  filename: upload.originalFilename,
  size_bytes: upload.sizeBytes,
  row_count: upload.rowCount,
  error_count: upload.errorCount,
  failure_reason: upload.failureReason,
  submitted_by: upload.accountant,
  created_at: upload.createdAt.toISOString(),
  uploaded_at: upload.uploadedAt?.toISOString() ?? null,
  parsed_at: upload.parsedAt?.toISOString() ?? null,
  ...(counts ? { activities: counts } : {}),
})

export const findUpload = (id: string) =>
  Effect.gen(function* () {
    const parsed = Schema.decodeUnknownOption(UploadId)(id)
    const upload = Option.isSome(parsed) ? yield* (yield* UploadsRepo).findById(parsed.value) : Option.none()
    return yield* Option.match(upload, {
      onNone: () => Effect.fail(new UploadNotFound({ message: "There is no such upload." })),
      onSome: Effect.succeed,
    })
  })

/** The seed's upload workflow: a signed upload target, then a notify that queues the parse. */
export const uploadsApi = (respond: Responder<UploadsServices>) =>
  new Elysia({ name: "api.uploads", prefix: "/v1" })
    .get("/upload/new", ({ request, query }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "upload", "change")
          const { filename } = yield* decodeInput(NewUploadQuery, "query")(query)
          const uploads = yield* Uploads
          const { uploadId, target } = yield* uploads.begin(principal, {
            filename: filename ?? null,
            correlationId: request.headers.get(CORRELATION_HEADER) ?? crypto.randomUUID(),
          })
          return json({
            upload_id: uploadId,
            url: new URL(target.url, request.url).toString(),
            method: target.method,
            headers: target.headers,
            ...(target.fields ? { fields: target.fields } : {}),
            expires_at: target.expiresAt.toISOString(),
            max_bytes: target.maxBytes,
          })
        }),
      ),
    )
    .post(
      "/upload",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(NotifyRequest, "notify request")))
            const uploads = yield* Uploads
            yield* uploads.confirm(principal, "upload_id" in body ? { uploadId: body.upload_id } : { presignedUrl: body.presigned_url, requestOrigin: new URL(request.url).origin })
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none" },
    )
    .get("/uploads", ({ request, query }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const page = yield* decodeInput(PageQuery, "query")(query)
          const { uploads, total } = yield* (yield* UploadsRepo).list(page)
          return json({ offset: page.offset, limit: page.limit, total, uploads: uploads.map((u) => uploadJson(u)) })
        }),
      ),
    )
    .get("/uploads/:id", ({ request, params }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const upload = yield* findUpload(params.id)
          const counts = yield* activityCounts(upload.id)
          return json({ ...uploadJson(upload, counts), row_errors: upload.rowErrors ?? [] })
        }),
      ),
    )
