import { ACTIVITY_STATUSES, UploadProgress } from "@scopeline/uploads"
import { uploadLabel } from "@scopeline/ui/uploadLabel"
import { ActivitiesQuery, type ActivityRow, DEFAULT_PAGE_SIZE } from "../ActivitiesQuery.ts"
import { ActivitiesPage, ActivitiesTable, type ActivityView } from "../views/ActivitiesPage.tsx"
import { Effect, Either, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { queryParams } from "@scopeline/ui/decode"
import { ActivityListParams, listRequest } from "./activitiesApi.ts"
import { decodeInput } from "@scopeline/ui/decode"
import type { Responder } from "@scopeline/ui/respond"
import type { ActivitiesServices } from "./services.ts"
import { pageResponder } from "@scopeline/ui/pageResponder"
import { can, currentUser, guard, type Principal, readerOf, renderPage, signedIn, type User } from "@scopeline/accounts"
import { formatCount } from "@scopeline/ui/format"
import { REVIEW_STATUSES, Review } from "@scopeline/matching"
import { ActivityId } from "../ActivitiesQuery.ts"
import { calculationOf } from "../Calculation.ts"
import { type EmissionFactor, FactorsRepo } from "@scopeline/catalogue"
import { ActivityNotFound } from "../errors.ts"
import { type ActivityDetailView, type HistoryEntryView, ActivityPage } from "../views/ActivityPage.tsx"

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
  reviewStatus: row.reviewStatus,
  failureReason: row.failureReason,
})

const pageHref = (params: ActivityListParams, offset: number) => {
  const search = new URLSearchParams()
  if (params.status) search.set("status", params.status)
  if (params.upload_id) search.set("upload_id", params.upload_id)
  if (params.review_status) search.set("review_status", params.review_status)
  if (params.limit !== DEFAULT_PAGE_SIZE) search.set("limit", String(params.limit))
  if (offset > 0) search.set("offset", String(offset))
  const query = search.toString()
  return query ? `/activities?${query}` : "/activities"
}

const detailView = (row: ActivityRow, factor: Option.Option<EmissionFactor>): ActivityDetailView => ({
  id: row.id,
  description: row.description,
  quantity: row.quantity,
  unit: row.unit,
  date: row.date,
  periodStart: row.periodStart,
  periodEnd: row.periodEnd,
  category: row.category,
  geography: row.geography,
  reference: row.reference,
  site: row.siteId === null ? null : { id: row.siteId, code: row.siteCode ?? row.siteId },
  uploadId: row.uploadId,
  rowNumber: row.rowNumber,
  submittedBy: row.submittedByEmail,
  status: row.status,
  emissionsKg: row.emissions,
  calculation: Option.getOrNull(Option.flatMap(factor, (f) => calculationOf(row, f))),
  factor:
    row.factorId === null
      ? null
      : {
          id: row.factorId,
          name: row.factorName ?? row.factorRef ?? row.factorId,
          ref: row.factorRef,
          source: row.factorSource,
          year: row.factorYear,
          factorSet: row.factorSet,
          geography: row.factorGeography,
          licence: row.factorLicence,
        },
  matchSource: row.matchSource,
  confidence: row.confidence,
  matchKey: row.matchKey,
  reviewStatus: row.reviewStatus,
  decisionScope: row.decisionScope,
  failureReason: row.failureReason,
  createdAt: row.createdAt,
})

type HistoryRow = Effect.Effect.Success<ReturnType<Review["history"]>>[number]

const historyView = (row: HistoryRow): HistoryEntryView => ({
  at: row.at,
  by: row.byEmail ?? (row.byId === null ? null : "a former member"),
  source: row.source,
  fromFactor: row.fromFactor,
  toFactor: row.toFactor,
  fromKg: row.fromKgCo2e,
  toKg: row.toKgCo2e,
  note: row.note,
})

const NOT_FOUND = () => new ActivityNotFound({ message: "There is no activity with this id." })

/** A path id that is not a UUID names no activity: the same 404 as an unknown one. */
const activityOf = (id: string) =>
  Schema.decodeUnknown(ActivityId)(id).pipe(
    Effect.mapError(NOT_FOUND),
    Effect.flatMap((valid) => ActivitiesQuery.pipe(Effect.flatMap((query) => query.findById(valid)))),
    Effect.flatMap(Option.match({ onNone: () => Effect.fail(NOT_FOUND()), onSome: Effect.succeed })),
  )

/** The refusals a re-match can meet, shown on the activity's page rather than as an error page. */
const REMATCH_REFUSALS = ["ManualDecisionHolds", "NotDecidable", "MatcherNotAnswering"]

const percent = (confidence: string) => `${Math.round(Number(confidence) * 100)}%`

/** /activities: the matched activities with their emissions, filterable by status, review status and upload; /activities/:id: one of them and its history. */
export const activitiesPage = (respond: Responder<ActivitiesServices>) => {
  const { page } = pageResponder(respond)

  const activityPage = (request: Request, who: { readonly principal: Principal; readonly user: User }, id: string, status: number, said: { readonly notice?: string | undefined; readonly error?: string | undefined } = {}) =>
    Effect.gen(function* () {
      const row = yield* activityOf(id)
      const history = yield* (yield* Review).history(row.id)
      const factor = row.factorId === null ? Option.none() : yield* (yield* FactorsRepo).findById(row.factorId)
      return yield* Effect.promise(() =>
        renderPage(
          request,
          { title: row.description, status, principal: who.principal, user: who.user, location: `/activities/${row.id}` },
          <ActivityPage
            activity={detailView(row, factor)}
            history={history.map(historyView)}
            reader={readerOf(who.user)}
            canRematch={can(who.principal.role, "upload")}
            notice={said.notice}
            error={said.error}
          />,
        ),
      )
    })

  return new Elysia({ name: "pages.activities" })
    .get("/activities/:id", ({ request, params }) =>
      page(
        request,
        Effect.gen(function* () {
          const { principal, user } = yield* signedIn(request, "view")
          // Only a number travels in the address; what the notice names is read from the activity itself.
          const rematched = new URL(request.url).searchParams.get("rematched")
          const row = yield* activityOf(params.id)
          const notice =
            rematched === null || !/^\d{1,9}$/.test(rematched)
              ? undefined
              : `Matched again: ${formatCount(Number(rematched))} ${rematched === "1" ? "activity" : "activities"} updated; this one ${
                  row.factorName === null ? "has no factor the matcher could stand by" : `uses ${row.factorName}${row.confidence === null ? "" : ` (${percent(row.confidence)} confidence)`}`
                }.`
          return yield* activityPage(request, { principal, user }, row.id, 200, { notice })
        }),
      ),
    )
    .post(
      "/activities/:id/rematch",
      ({ request, params }) =>
        page(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const row = yield* activityOf(params.id)
            const outcome = yield* (yield* Review).rematch(row.id, { userId: principal.userId, role: principal.role }).pipe(Effect.either)
            if (Either.isRight(outcome)) {
              return new Response(null, { status: 303, headers: { location: `/activities/${row.id}?rematched=${outcome.right.activities_updated}` } })
            }
            if (!REMATCH_REFUSALS.includes(outcome.left._tag)) return yield* Effect.fail(outcome.left)
            const user = yield* currentUser(principal)
            return yield* activityPage(request, { principal, user }, row.id, outcome.left.status, { error: outcome.left.message })
          }),
        ),
      { parse: "none" },
    )
    .get("/activities", ({ request }) =>
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
                reviewStatuses={REVIEW_STATUSES}
                reviewStatus={params.review_status ?? null}
                uploads={uploads.map(({ upload, counts: c }) => ({
                  id: upload.id,
                  label: `${uploadLabel(upload, reader)} · ${formatCount(c.calculated)}/${formatCount(c.total)} calculated`,
                }))}
              />,
            ),
          )
        }),
      ),
    )
}
