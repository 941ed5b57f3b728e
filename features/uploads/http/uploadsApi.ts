import { guard } from "@scopeline/accounts"
import { UploadsRepo } from "../UploadsRepo.ts"
import { UploadNotFound } from "../errors.ts"
import type { Upload } from "../Upload.ts"
import { RowError, UploadId, UploadStatus } from "../Upload.ts"
import { Uploads } from "../Uploads.ts"
import { UploadProgress } from "../UploadProgress.ts"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, jsonBody, QueryInt } from "@scopeline/ui/decode"
import { CORRELATION_HEADER, json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { UploadsServices } from "./services.ts"

// One or the other: with both, which upload is meant would depend on which the server reads first.
const NotBoth = Schema.optional(Schema.Never.annotations({ message: () => "give upload_id or presigned_url, not both" }))
const NotifyRequest = Schema.Union(
  Schema.Struct({ upload_id: Schema.String, presigned_url: NotBoth }),
  Schema.Struct({ presigned_url: Schema.String.pipe(Schema.minLength(1)), upload_id: NotBoth }),
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

const Counts = Schema.Struct({ ingested: Schema.Number, matching: Schema.Number, calculated: Schema.Number, failed: Schema.Number })
const IsoTime = Schema.String.annotations({ format: "date-time" })

/** An upload as the API shows it (`uploadJson`). */
export const UploadJson = Schema.Struct({
  id: UploadId,
  url: Schema.String,
  status: UploadStatus,
  filename: Schema.NullOr(Schema.String),
  size_bytes: Schema.NullOr(Schema.Number),
  row_count: Schema.NullOr(Schema.Number),
  error_count: Schema.NullOr(Schema.Number),
  failure_reason: Schema.NullOr(Schema.String),
  submitted_by: Schema.String,
  created_at: IsoTime,
  uploaded_at: Schema.NullOr(IsoTime),
  parsed_at: Schema.NullOr(IsoTime),
  activities: Schema.optional(Counts),
}).annotations({ identifier: "Upload" })

const UploadTargetJson = Schema.Struct({
  upload_id: UploadId,
  url: Schema.String,
  method: Schema.Literal("PUT", "POST"),
  headers: Schema.Record({ key: Schema.String, value: Schema.String }),
  fields: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  expires_at: IsoTime,
  max_bytes: Schema.Number,
})
const IdParam = Schema.Struct({ id: Schema.String })

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const uploadsApiDocs = {
  begin: documented({
    summary: "Start an upload: a signed target to send the file to",
    description: "Send the file to `url` with `method` and `headers` (and `fields` first, as multipart, for a POST), then confirm with `POST /v1/upload`.",
    tag: "uploads",
    access: "upload",
    changes: true,
    query: NewUploadQuery,
    responses: { 200: { description: "Where and how to send the file.", schema: UploadTargetJson } },
  }),
  confirm: documented({
    summary: "Confirm that the file arrived: queues its parse",
    description: "By the `upload_id` of the target, or by the `presigned_url` the file was sent to. A repeat is a no-op.",
    tag: "uploads",
    access: "upload",
    changes: true,
    body: NotifyRequest,
    responses: { 204: { description: "The parse is queued (or already was)." } },
    errors: [404, 409, 413],
  }),
  list: documented({
    summary: "List uploads, newest first",
    tag: "uploads",
    access: "view",
    query: PageQuery,
    responses: {
      200: {
        description: "One page of uploads.",
        schema: Schema.Struct({ offset: Schema.Number, limit: Schema.Number, total: Schema.Number, uploads: Schema.Array(UploadJson) }),
      },
    },
  }),
  get: documented({
    summary: "One upload, with its matching progress and row errors",
    tag: "uploads",
    access: "view",
    params: IdParam,
    responses: {
      200: {
        description: "The upload.",
        schema: Schema.extend(UploadJson, Schema.Struct({ row_errors: Schema.Array(RowError) })),
      },
    },
    errors: [404],
  }),
}

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
          const { uploadId, target } = yield* uploads.begin(principal, { filename: filename ?? null })
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
      { detail: uploadsApiDocs.begin },
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
            yield* uploads.confirm(principal, body.upload_id !== undefined ? { uploadId: body.upload_id } : { presignedUrl: body.presigned_url, requestOrigin: new URL(request.url).origin })
            return new Response(null, { status: 204 })
          }),
        ),
      { parse: "none", detail: uploadsApiDocs.confirm },
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
      { detail: uploadsApiDocs.list },
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
      { detail: uploadsApiDocs.get },
    )
