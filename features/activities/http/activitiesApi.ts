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
import { ReviewStatusSchema } from "@scopeline/matching"
import { Elysia } from "elysia"
import { decodeInput, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
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
  review_status: Schema.optional(ReviewStatusSchema),
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
          reviewStatus: params.review_status ?? null,
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
            factor_set: row.factorSet,
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
  site: row.siteId === null ? null : { id: row.siteId, code: row.siteCode ?? "", url: `/v1/sites/${row.siteId}` },
  upload: { id: row.uploadId, url: `/v1/uploads/${row.uploadId}`, row_number: row.rowNumber },
  match_source: row.matchSource,
  match_key: row.matchKey,
  confidence: decimal(row.confidence),
  review_status: row.reviewStatus,
  decision_applies_to: row.decisionScope,
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

const Nullable = Schema.NullOr

/** An activity as the API shows it (`activityJson`). */
export const ActivityJson = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  emissions: Nullable(
    Schema.Struct({
      pollutant: Schema.Struct({ id: Schema.String, name: Schema.String }),
      amount: Schema.Struct({ unit: Schema.String, quantity: Schema.Number }),
    }),
  ),
  emission_factor: Nullable(
    Schema.Struct({
      id: Schema.String,
      name: Nullable(Schema.String),
      url: Schema.String,
      provenance: Schema.Struct({
        source: Nullable(Schema.String),
        year: Nullable(Schema.Number),
        geography: Nullable(Schema.String),
        licence: Nullable(Schema.String),
        source_id: Nullable(Schema.String),
        ref: Nullable(Schema.String),
        factor_set: Nullable(Schema.String).annotations({ description: "the factor set (source:year) the emissions were calculated with" }),
      }),
    }),
  ),
  description: Schema.String,
  quantity: Nullable(Schema.Number),
  unit: Schema.String,
  date: Nullable(Schema.String),
  category: Nullable(Schema.String),
  geography: Nullable(Schema.String),
  period_start: Nullable(Schema.String),
  period_end: Nullable(Schema.String),
  reference: Nullable(Schema.String),
  extra: Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({ description: "the file's own columns, under their own names" }),
  site: Nullable(Schema.Struct({ id: Schema.String, code: Schema.String, url: Schema.String })).annotations({
    description: "the site named in the file's `site` column",
  }),
  upload: Schema.Struct({ id: Schema.String, url: Schema.String, row_number: Schema.Number }),
  match_source: Nullable(Schema.String),
  match_key: Nullable(Schema.String).annotations({ description: "normalised description | unit | geography: activities sharing it share their match" }),
  confidence: Nullable(Schema.Number),
  review_status: Nullable(ReviewStatusSchema).annotations({
    description: "needs_review: an automatic match below REVIEW_BELOW; auto_accepted: at or above it; reviewed: a person decided. Null without a factor.",
  }),
  decision_applies_to: Nullable(Schema.Literal("key", "activity")).annotations({ description: "set when a person decided this activity's factor" }),
  failure_reason: Nullable(Schema.String),
  metadata: Schema.Struct({
    status: ActivityStatus,
    ingested_on: Schema.String,
    updated_at: Schema.String,
    submitted_by: Nullable(Schema.Struct({ id: Schema.String, email: Nullable(Schema.String) })),
  }),
}).annotations({ identifier: "Activity" })

const TotalLine = (name: string) =>
  Schema.Struct({ [name]: Nullable(Schema.String), quantity: Schema.Number, activities: Schema.Number })

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const activitiesApiDocs = {
  list: documented({
    summary: "List activities, by offset or by cursor",
    description: "Follow `next_cursor` for a stable walk through a large upload; `status_counts` comes with `upload_id`.",
    tag: "activities",
    access: "view",
    query: ActivityListParams,
    responses: {
      200: {
        description: "One page of activities.",
        schema: Schema.Struct({
          offset: Nullable(Schema.Number),
          limit: Schema.Number,
          next_cursor: Nullable(Schema.String),
          status_counts: Schema.optional(Schema.Record({ key: ActivityStatus, value: Schema.Number })),
          activities: Schema.Array(ActivityJson),
        }),
      },
    },
  }),
  get: documented({
    summary: "One activity, with its factor's provenance",
    tag: "activities",
    access: "view",
    params: Schema.Struct({ id: Schema.String }),
    responses: { 200: { description: "The activity.", schema: ActivityJson } },
    errors: [404],
  }),
  totals: documented({
    summary: "Emission totals, by scope, category and month",
    tag: "activities",
    access: "view",
    query: TotalsParams,
    responses: {
      200: {
        description: "The totals, in kg CO2e, of the calculated activities.",
        schema: Schema.Struct({
          upload_id: Nullable(Schema.String),
          unit: Schema.Literal("kg CO2e"),
          total: Schema.Struct({ quantity: Schema.Number, activities: Schema.Number }),
          by_scope: Schema.Array(TotalLine("scope")),
          by_category: Schema.Array(TotalLine("category")),
          by_month: Schema.Array(TotalLine("month")),
        }),
      },
    },
  }),
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
      { detail: activitiesApiDocs.list },
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
      { detail: activitiesApiDocs.get },
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
      { detail: activitiesApiDocs.totals },
    )
