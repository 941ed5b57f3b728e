import type { Principal } from "@scopeline/accounts"
import { guard } from "@scopeline/accounts"
import { BlobStore } from "@scopeline/storage/BlobStore"
import { BLOB_ROUTE, LocalBlobUploads } from "@scopeline/storage/LocalBlobStore"
import { Forbidden } from "@scopeline/ui/ApiError"
import { decodeInput, jsonBody } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { EXPORT_CONTENT_TYPES, ExportFilters, ExportFormat, ExportKind, ExportRequestBody, type ExportRow, ExportStatus } from "../Export.ts"
import { Exports } from "../Exports.ts"
import type { InventoryServices } from "./services.ts"

const ExportJson = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  status: ExportStatus,
  format: ExportFormat,
  kind: ExportKind,
  filters: Schema.encodedSchema(ExportFilters),
  rows_written: Schema.Number,
  total_rows: Schema.NullOr(Schema.Number),
  download_url: Schema.optional(Schema.String),
  expires_at: Schema.optional(Schema.String),
  failure_reason: Schema.optional(Schema.String),
  created_at: Schema.String,
}).annotations({ identifier: "Export" })

/** An export as the API shows it; `download_url` (signed, short-lived) only once it is ready. */
export const exportJson = (row: ExportRow, download?: { readonly url: string; readonly expiresAt: Date }): typeof ExportJson.Type => ({
  id: row.id,
  url: `/v1/exports/${row.id}`,
  status: row.status,
  format: row.format,
  kind: row.kind,
  filters: Schema.encodeSync(ExportFilters)(row.filters),
  rows_written: row.rowsWritten,
  total_rows: row.totalRows,
  ...(download ? { download_url: download.url, expires_at: download.expiresAt.toISOString() } : {}),
  ...(row.failureReason === null ? {} : { failure_reason: row.failureReason }),
  created_at: row.createdAt.toISOString(),
})

/** The answer for one export: with a fresh download URL when it is ready. */
export const exportWithDownload = (row: ExportRow, by: Principal) =>
  Effect.gen(function* () {
    if (row.status !== "ready") return exportJson(row)
    return exportJson(row, yield* (yield* Exports).downloadUrl(row, by, "api"))
  })

export const exportsApiDocs = {
  create: documented({
    summary: "Ask for an export of activities or the inventory as CSV or XLSX",
    description:
      "Queued for the worker, which writes the file to the blob store; poll `GET /v1/exports/:id` for progress and the download URL. " +
      "Cells that begin with =, +, -, @, tab or carriage return are written as text (prefixed with ').",
    tag: "inventory",
    access: "view",
    changes: true,
    body: ExportRequestBody,
    responses: { 202: { description: "The export is queued.", schema: Schema.Struct({ export: Schema.Struct({ id: Schema.String, status: Schema.Literal("queued"), url: Schema.String }) }) } },
    errors: [503],
  }),
  list: documented({
    summary: "Your recent exports, newest first",
    tag: "inventory",
    access: "view",
    responses: { 200: { description: "Up to 20 exports.", schema: Schema.Struct({ exports: Schema.Array(ExportJson) }) } },
  }),
  get: documented({
    summary: "One export: its progress, and a signed download URL (15 minutes) once ready",
    tag: "inventory",
    access: "view",
    params: Schema.Struct({ id: Schema.String }),
    responses: { 200: { description: "The export.", schema: ExportJson } },
    errors: [404],
  }),
}

/** POST /v1/exports, GET /v1/exports, GET /v1/exports/:id. */
export const exportsApi = (respond: Responder<InventoryServices>) =>
  new Elysia({ name: "api.exports", prefix: "/v1" })
    .post(
      "/exports",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view", "change")
            const body = yield* decodeInput(ExportRequestBody, "export request")(yield* jsonBody(request))
            const row = yield* (yield* Exports).request(principal, body)
            return json({ export: { id: row.id, status: "queued", url: `/v1/exports/${row.id}` } }, 202)
          }),
        ),
      { detail: exportsApiDocs.create },
    )
    .get(
      "/exports",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view")
            const rows = yield* (yield* Exports).recent(principal)
            return json({ exports: rows.map((row) => exportJson(row)) })
          }),
        ),
      { detail: exportsApiDocs.list },
    )
    .get(
      "/exports/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "view")
            const row = yield* (yield* Exports).get(principal, params.id)
            return json(yield* exportWithDownload(row, principal))
          }),
        ),
      { detail: exportsApiDocs.get },
    )

/**
 * The local blob store's download endpoint (embedded mode): the signature is the authorisation, no
 * session needed, as with an S3 presigned GET.
 */
export const blobDownloads = (respond: Responder<InventoryServices>) =>
  new Elysia({ name: "api.blob-downloads" }).get(`${BLOB_ROUTE}*`, ({ request }) =>
    respond.api(
      request,
      Effect.gen(function* () {
        const url = new URL(request.url)
        const key = yield* Effect.try({
          try: () => decodeURIComponent(url.pathname.slice(BLOB_ROUTE.length)),
          catch: () => new Forbidden({ message: "This download link is not valid." }),
        })
        const signed = yield* (yield* LocalBlobUploads)
          .verifyDownload(key, url.searchParams)
          .pipe(Effect.mapError((rejected) => new Forbidden({ message: rejected.message })))
        const body = yield* (yield* BlobStore).read(signed.key).pipe(
          Effect.catchTags({
            BlobNotFound: () => Effect.fail(new Forbidden({ message: "This file is no longer available." })),
            BlobStoreError: (error) => Effect.die(error),
          }),
        )
        const format = signed.key.endsWith(".xlsx") ? "xlsx" : "csv"
        // Pulled chunk by chunk as the client reads: the file never sits in memory whole.
        const chunks = body[Symbol.asyncIterator]()
        const stream = new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            const next = await chunks.next()
            if (next.done) controller.close()
            else controller.enqueue(next.value)
          },
          cancel: () => {
            body.destroy()
          },
        })
        return new Response(stream, {
          headers: {
            "content-type": EXPORT_CONTENT_TYPES[format],
            "content-disposition": `attachment; filename="${signed.filename.replace(/[^\w.-]/g, "_")}"`,
          },
        })
      }),
    ),
  )
