import { currentUser, guard, readerOf, renderPage, signedIn } from "@scopeline/accounts"
import { decodeInput, formBody } from "@scopeline/ui/decode"
import { formatTimestamp } from "@scopeline/ui/format"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { html, type Responder } from "@scopeline/ui/respond"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import { UploadsRepo } from "@scopeline/uploads"
import { uploadLabel } from "@scopeline/ui/uploadLabel"
import { ExportFilters, ExportFormat, ExportKind, type ExportRow, periodInOrder } from "../Export.ts"
import { Exports } from "../Exports.ts"
import { ExportsList, ExportsPage, type ExportView } from "../views/ExportsPage.tsx"
import type { InventoryServices } from "./services.ts"

/** The Export button's form: the request's fields flattened (empty filters are absent). */
const ExportForm = Schema.Struct({ format: ExportFormat, kind: ExportKind, ...ExportFilters.fields }).pipe(Schema.filter(periodInOrder))

/** The filters in words; an upload is named by its file and time, as the activities filter offers it. */
const describeFilters = (row: ExportRow, uploads: ReadonlyMap<string, string>) =>
  Object.entries(Schema.encodeSync(ExportFilters)(row.filters))
    .map(([name, value]) => (name === "upload_id" ? `upload ${uploads.get(value) ?? value}` : `${name.replaceAll("_", " ")} ${value}`))
    .join(", ")

/** /exports: the list of your exports, the Export button's target, and the download redirect. */
export const exportsPages = (respond: Responder<InventoryServices>) => {
  const { page } = pageResponder(respond)
  const views = (request: Request) =>
    Effect.gen(function* () {
      const { principal, user } = yield* signedIn(request, "view")
      const rows = yield* (yield* Exports).recent(principal)
      const reader = readerOf(user)
      const named = yield* (yield* UploadsRepo).findByIds(rows.flatMap((row) => (row.filters.upload_id === undefined ? [] : [row.filters.upload_id])))
      const uploads = new Map<string, string>(named.map((upload) => [upload.id, uploadLabel(upload, reader)]))
      const exports: ReadonlyArray<ExportView> = rows.map((row) => ({
        id: row.id,
        kind: row.kind,
        format: row.format,
        status: row.status,
        rowsWritten: row.rowsWritten,
        totalRows: row.totalRows,
        failureReason: row.failureReason,
        createdAt: formatTimestamp(row.createdAt, reader),
        filters: describeFilters(row, uploads),
      }))
      return { principal, user, exports }
    })
  return new Elysia({ name: "pages.exports" })
    .get("/exports", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user, exports } = yield* views(request)
          return yield* Effect.promise(() => renderPage(request, { title: "Exports", principal, user }, <ExportsPage exports={exports} />))
        }),
      ),
    )
    .get("/exports/list", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const { exports } = yield* views(request)
          return html(yield* Effect.promise(async () => await (<ExportsList exports={exports} />)))
        }),
      ),
    )
    .post("/exports", ({ request }) =>
      page(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view", "change")
          const form = Object.fromEntries([...(yield* formBody(request))].filter(([, value]) => value !== ""))
          const { format, kind, ...filters } = yield* decodeInput(ExportForm, "export request")(form)
          yield* (yield* Exports).request(principal, { format, kind, filters })
          return new Response(null, { status: 303, headers: { location: "/exports" } })
        }),
      ),
    )
    .get("/exports/:id/download", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          yield* currentUser(principal)
          const exports = yield* Exports
          const row = yield* exports.get(principal, params.id)
          const download = yield* exports.downloadUrl(row, principal, "page")
          return new Response(null, { status: 303, headers: { location: download.url } })
        }),
      ),
    )
}
