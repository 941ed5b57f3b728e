import { guard } from "@scopeline/accounts"
import { ActivityNotFound } from "../errors.ts"
import {
  ActivitiesQuery,
  ActivityId,
  ActivityListRequest,
  type ActivityRow,
  Cursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  MAX_PAGE_SIZE,
} from "../ActivitiesQuery.ts"
import { type EmissionsBucket, EmissionsRepo } from "../EmissionsRepo.ts"
import { BadRequest } from "@scopeline/ui/ApiError"
import { ActivityStatus, UploadId, UploadProgress } from "@scopeline/uploads"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import type { ActivitiesServices } from "./services.ts"



export const ActivityListParams = Schema.Struct({
  offset: Schema.optionalWith(QueryInt.pipe(Schema.nonNegative()), { default: () => 0 }),
  // Asking for more than the cap is an error rather than a silent clamp: a client looping over pages
  // with limit=5000 would otherwise believe a short page meant the end.
  limit: Schema.optionalWith(
    QueryInt.pipe(Schema.between(1, MAX_PAGE_SIZE, { message: () => `must be between 1 and ${MAX_PAGE_SIZE}` })),
    { default: () => DEFAULT_PAGE_SIZE },
  ),
  cursor: Schema.optional(Cursor),
  upload_id: Schema.optional(UploadId),
  status: Schema.optional(ActivityStatus),
})
export type ActivityListParams = typeof ActivityListParams.Type

export const listRequest = (params: ActivityListParams) =>
  params.cursor !== undefined && params.offset > 0
    ? Effect.fail(
        new BadRequest({
          message: "Use either offset or cursor, not both.",
          details: [{ path: "cursor", message: "cannot be combined with a non-zero offset" }],
        }),
      )
    : Effect.succeed(
        ActivityListRequest.make({
          uploadId: params.upload_id ?? null,
          status: params.status ?? null,
          limit: params.limit,
          offset: params.offset,
          after: params.cursor ?? null,
        }),
      )

const decimal = (text: string | null) => (text === null ? null : Number(text))

/** One activity in the seed's shape, with the factor's provenance and how the match was made. */
export const activityJson = (row: ActivityRow) => ({
  id: row.id,
  url: `/v1/activities/${row.id}`,
  emissions:
    row.status === "calculated" && row.emissions !== null
      ? {
          pollutant: { id: "co2e", name: "CO2e" },
          amount: { unit: row.emissionsUnit ?? "kg CO2e", quantity: Number(row.emissions) },
        }
      : null,
  emission_factor:
    row.factorId === null
      ? null
      : {
          id: row.factorId,
          name: row.factorName,
          url: `/v1/emission-factors/${row.factorId}`,
          provenance: {
            source: row.factorSource,
            year: row.factorYear,
            geography: row.factorGeography,
            licence: row.factorLicence,
            source_id: row.factorSourceId,
            ref: row.factorRef,
          },
        },
  description: row.description,
  quantity: decimal(row.quantity),
  unit: row.unit,
  date: row.date,
  category: row.category,
  geography: row.geography,
  period_start: row.periodStart,
  period_end: row.periodEnd,
  reference: row.reference,
  // The file's own columns stay under their own key: spreading them here could shadow ours.
  extra: row.extra ?? {},
  upload: { id: row.uploadId, url: `/v1/uploads/${row.uploadId}`, row_number: row.rowNumber },
  match_source: row.matchSource,
  confidence: decimal(row.confidence),
  failure_reason: row.failureReason,
  metadata: {
    status: row.status,
    ingested_on: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    submitted_by: row.submittedById === null ? null : { id: row.submittedById, email: row.submittedByEmail },
  },
})

const TotalsParams = Schema.Struct({ upload_id: Schema.optional(UploadId) })

const totalLine = <K extends string>(name: K, bucket: EmissionsBucket) =>
  ({ [name]: bucket.label, quantity: bucket.kgCo2e, activities: bucket.activities }) as Record<K, string | null> & {
    quantity: number
    activities: number
  }

/** GET /v1/activities, GET /v1/activities/:id and GET /v1/emissions/totals. */
export const activitiesApi = (respond: Responder<ActivitiesServices>) =>
  new Elysia({ name: "api.activities", prefix: "/v1" })
    .get("/activities", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const params = yield* decodeInput(ActivityListParams, "query")(queryParams(request))
          const query = yield* ActivitiesQuery
          const page = yield* query.list(yield* listRequest(params))
          const counts = params.upload_id
            ? (yield* (yield* UploadProgress).statusCounts([params.upload_id])).get(params.upload_id)
            : undefined
          return json({
            offset: params.cursor ? null : params.offset,
            limit: params.limit,
            next_cursor: page.next ? encodeCursor(page.next) : null,
            ...(counts ? { status_counts: counts } : {}),
            activities: page.rows.map(activityJson),
          })
        }),
      ),
    )
    .get("/activities/:id", ({ request, params }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const notFound = new ActivityNotFound({ message: "There is no activity with this id." })
          // A malformed id cannot name an activity: the same 404 as an unknown one.
          const id = yield* Schema.decodeUnknown(ActivityId)(params.id).pipe(Effect.mapError(() => notFound))
          const row = yield* (yield* ActivitiesQuery).findById(id)
          return yield* Option.match(row, {
            onNone: () => Effect.fail(notFound),
            onSome: (found) => Effect.succeed(json(activityJson(found))),
          })
        }),
      ),
    )
    .get("/emissions/totals", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const params = yield* decodeInput(TotalsParams, "query")(queryParams(request))
          const totals = yield* (yield* EmissionsRepo).totals(params.upload_id ? { uploadId: params.upload_id } : {})
          return json({
            upload_id: params.upload_id ?? null,
            unit: "kg CO2e",
            total: { quantity: totals.kgCo2e, activities: totals.activities },
            by_scope: totals.byScope.map((line) => totalLine("scope", line)),
            by_category: totals.byCategory.map((line) => totalLine("category", line)),
            by_month: totals.byMonth.map((line) => totalLine("month", line)),
          })
        }),
      ),
    )
