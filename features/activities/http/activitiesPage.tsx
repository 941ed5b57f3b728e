import { ACTIVITY_STATUSES, UploadProgress } from "@scopeline/uploads"
import { ActivitiesQuery, type ActivityRow, DEFAULT_PAGE_SIZE } from "../ActivitiesQuery.ts"
import { ActivitiesPage, ActivitiesTable, type ActivityView } from "../views/ActivitiesPage.tsx"
import { Effect } from "effect"
import { Elysia } from "elysia"
import { queryParams } from "@scopeline/ui/decode"
import { ActivityListParams, listRequest } from "./activitiesApi.ts"
import { decodeInput } from "@scopeline/ui/decode"
import type { Responder } from "@scopeline/ui/respond"
import type { ActivitiesServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { renderPage, signedIn } from "@scopeline/accounts"
import { formatCount, formatDate } from "@scopeline/ui/format"

// The filter offers the newest uploads; older ones stay reachable by their id in the URL.
const UPLOADS_IN_FILTER = 50

const activityView = (row: ActivityRow): ActivityView => ({
  id: row.id,
  description: row.description,
  quantity: row.quantity,
  unit: row.unit,
  date: row.date,
  status: row.status,
  emissionsKg: row.status === "calculated" ? row.emissions : null,
  factor: row.factorId === null ? null : { id: row.factorId, name: row.factorName ?? row.factorRef ?? row.factorId },
  matchSource: row.matchSource,
  confidence: row.confidence,
  failureReason: row.failureReason,
})

const pageHref = (params: ActivityListParams, offset: number) => {
  const search = new URLSearchParams()
  if (params.status) search.set("status", params.status)
  if (params.upload_id) search.set("upload_id", params.upload_id)
  if (params.limit !== DEFAULT_PAGE_SIZE) search.set("limit", String(params.limit))
  if (offset > 0) search.set("offset", String(offset))
  const query = search.toString()
  return query ? `/activities?${query}` : "/activities"
}

/** /activities: the matched activities with their emissions, filterable by status and upload. */
export const activitiesPage = (respond: Responder<ActivitiesServices>) => {
  const { page } = pageResponder(respond)
  return new Elysia({ name: "pages.activities" }).get("/activities", ({ request }) =>
    page(
      request,
      Effect.gen(function* () {
        const { principal, user, reader } = yield* signedIn(request, "view")
        const params = yield* decodeInput(ActivityListParams, "filter")(queryParams(request))
        const query = yield* ActivitiesQuery
        // The page pages by offset: previous links need it, and people rarely go 40 pages deep here.
        const result = yield* query.list(yield* listRequest({ ...params, cursor: undefined }))
        const counts = params.upload_id ? (yield* (yield* UploadProgress).statusCounts([params.upload_id])).get(params.upload_id) : undefined
        const table = {
          rows: result.rows.map(activityView),
          offset: params.offset,
          previousHref: params.offset > 0 ? pageHref(params, Math.max(0, params.offset - params.limit)) : null,
          nextHref: result.next ? pageHref(params, params.offset + params.limit) : null,
          counts: counts && {
            ingested: counts.ingested,
            matching: counts.matching,
            calculated: counts.calculated,
            failed: counts.failed,
          },
        }
        // The filter form targets the table: htmx then asks for a part, and only the table is sent.
        if (request.headers.get("hx-request-type") === "partial") {
          return yield* Effect.promise(() => renderPage(request, { title: "Activities", principal, user }, <ActivitiesTable {...table} />))
        }
        const uploads = yield* query.recentUploads(UPLOADS_IN_FILTER)
        return yield* Effect.promise(() =>
          renderPage(
            request,
            { title: "Activities", principal, user },
            <ActivitiesPage
              {...table}
              statuses={ACTIVITY_STATUSES}
              status={params.status ?? null}
              uploadId={params.upload_id ?? null}
              uploads={uploads.map(({ upload, counts: c }) => ({
                id: upload.id,
                label: `${upload.originalFilename ?? upload.id.slice(0, 8)} · ${formatDate(upload.createdAt, reader)} · ${formatCount(c.calculated)}/${formatCount(c.total)} calculated`,
              }))}
            />,
          ),
        )
      }),
    ),
  )
}
