import { guard } from "@scopeline/accounts"
import { decodeInput, jsonBody, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Schema } from "effect"
import { Elysia } from "elysia"
import {
  type Recalculation,
  RecalculationPhase,
  RecalculationRequest,
  RecalculationStatus,
  Restatement,
  type UnmappedActivity,
  UnmappedReason,
} from "../Recalculation.ts"
import { Recalculations } from "../Recalculations.ts"
import type { RecalculationsServices } from "./services.ts"

/** The most unmapped activities one answer lists; the rest are paged (`unmapped_offset`). */
export const MAX_UNMAPPED_PAGE = 500

const Nullable = Schema.NullOr

const progressOf = (r: Recalculation) => ({
  phase: r.phase,
  activities_in_scope: r.activitiesInScope,
  activities_processed: r.status === "done" ? (r.activitiesInScope ?? 0) : 0,
})

const Progress = Schema.Struct({
  phase: RecalculationPhase,
  activities_in_scope: Nullable(Schema.Number).annotations({ description: "activities on the target's source to move or list; known once planning starts" }),
  activities_processed: Schema.Number.annotations({ description: "all of them once done: the run is one transaction" }),
})

/** A recalculation as listed: what it is, where it is, and its counts once done. */
export const recalculationSummaryJson = (r: Recalculation) => ({
  id: r.id,
  url: `/v1/recalculations/${r.id}`,
  factor_set: r.factorSet,
  upload_id: r.uploadId,
  preview: r.preview,
  status: r.status,
  progress: progressOf(r),
  requested_by: r.requestedBy === null ? null : { user_id: r.requestedBy, role: r.requestedRole },
  error: r.error,
  created_at: r.createdAt.toISOString(),
  started_at: r.startedAt?.toISOString() ?? null,
  finished_at: r.finishedAt?.toISOString() ?? null,
  counts: r.result?.counts ?? null,
})

const summaryFields = {
  id: Schema.String,
  url: Schema.String,
  factor_set: Schema.String,
  upload_id: Nullable(Schema.String),
  preview: Schema.Boolean,
  status: RecalculationStatus,
  progress: Progress,
  requested_by: Nullable(Schema.Struct({ user_id: Schema.String, role: Nullable(Schema.String) })),
  error: Nullable(Schema.String),
  created_at: Schema.String,
  started_at: Nullable(Schema.String),
  finished_at: Nullable(Schema.String),
  counts: Nullable(Restatement.fields.counts),
}

export const RecalculationSummaryJson = Schema.Struct(summaryFields).annotations({ identifier: "RecalculationSummary" })

export const unmappedJson = (u: UnmappedActivity) => ({
  id: u.activityId,
  url: `/v1/activities/${u.activityId}`,
  upload_id: u.uploadId,
  row: u.rowNumber,
  description: u.description,
  quantity: u.quantity,
  unit: u.unit,
  factor_id: u.factorId,
  factor_ref: u.factorRef,
  reason: u.reason,
  message: u.message,
})

const UnmappedJson = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  upload_id: Schema.String,
  row: Nullable(Schema.Number),
  description: Schema.String,
  quantity: Nullable(Schema.String),
  unit: Nullable(Schema.String),
  factor_id: Schema.String,
  factor_ref: Schema.String.annotations({ description: "the factor it keeps (not moved)" }),
  reason: UnmappedReason,
  message: Schema.String,
})

export const RecalculationJson = Schema.Struct({
  ...summaryFields,
  restatement: Nullable(Restatement),
  unmapped: Schema.Struct({ total: Schema.Number, offset: Schema.Number, limit: Schema.Number, activities: Schema.Array(UnmappedJson) }),
}).annotations({ identifier: "Recalculation" })

export const RecalculationQuery = Schema.Struct({
  unmapped_offset: Schema.optionalWith(QueryInt, { default: () => 0 }),
  unmapped_limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, MAX_UNMAPPED_PAGE)), { default: () => 100 }),
})

export const RecalculationsQuery = Schema.Struct({
  offset: Schema.optionalWith(QueryInt, { default: () => 0 }),
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 200)), { default: () => 50 }),
})

/** One recalculation with its restatement and a page of the activities it could not move. */
export const recalculationDetail = (id: string, offset: number, limit: number) =>
  Effect.gen(function* () {
    const service = yield* Recalculations
    const recalculation = yield* service.get(id)
    const unmapped = yield* service.unmapped(recalculation.id, offset, limit)
    return { recalculation, unmapped }
  })

export const recalculationJson = (detail: Effect.Effect.Success<ReturnType<typeof recalculationDetail>>, offset: number, limit: number) => ({
  ...recalculationSummaryJson(detail.recalculation),
  restatement: detail.recalculation.result,
  unmapped: { total: detail.unmapped.total, offset, limit, activities: detail.unmapped.rows.map(unmappedJson) },
})

const IdParam = Schema.Struct({ id: Schema.String })

export const recalculationsApiDocs = {
  create: documented({
    summary: "Restate calculated activities on another factor set (a queued job), or preview the restatement",
    description:
      "Each calculated activity priced on the set's source moves to the row with the same source id in `factor_set` and is " +
      "priced again exactly (quantity × unit ratio × the row's factor). An activity whose row is not in the set, or is per " +
      "another unit, stays as it is and is listed. Activities of other sources are out of scope and unchanged. `preview: true` " +
      "computes the same restatement and changes nothing. The job runs in the worker: follow `url` until `status` is `done`.",
    tag: "recalculations",
    access: "upload",
    changes: true,
    body: RecalculationRequest,
    responses: {
      202: {
        description: "Queued.",
        schema: Schema.Struct({ recalculation: Schema.Struct({ id: Schema.String, url: Schema.String, status: RecalculationStatus }) }),
      },
    },
    errors: [404],
  }),
  list: documented({
    summary: "Recalculations, newest first",
    tag: "recalculations",
    access: "view",
    query: RecalculationsQuery,
    responses: {
      200: {
        description: "One page of recalculations.",
        schema: Schema.Struct({ offset: Schema.Number, limit: Schema.Number, total: Schema.Number, recalculations: Schema.Array(RecalculationSummaryJson) }),
      },
    },
  }),
  get: documented({
    summary: "One recalculation: status, progress, the restatement and the activities it could not move",
    description:
      "`restatement` (once done) has the counts and the totals before and after, overall, by scope and by scope 3 category, in " +
      "kg CO2e as exact decimals. `unmapped` pages the activities left on their factor, with the reason.",
    tag: "recalculations",
    access: "view",
    params: IdParam,
    query: RecalculationQuery,
    responses: { 200: { description: "The recalculation.", schema: Schema.Struct({ recalculation: RecalculationJson }) } },
    errors: [404],
  }),
}

/** /v1/recalculations: ask for a restatement, and read what it found. */
export const recalculationsApi = (respond: Responder<RecalculationsServices>) =>
  new Elysia({ name: "api.recalculations", prefix: "/v1/recalculations" })
    .post(
      "/",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(RecalculationRequest, "recalculation")))
            const recalculation = yield* (yield* Recalculations).request(principal, body)
            return json({ recalculation: { id: recalculation.id, url: `/v1/recalculations/${recalculation.id}`, status: recalculation.status } }, 202)
          }),
        ),
      { parse: "none", detail: recalculationsApiDocs.create },
    )
    .get(
      "/",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const { offset, limit } = yield* decodeInput(RecalculationsQuery, "query")(queryParams(request))
            const page = yield* (yield* Recalculations).list(offset, limit)
            return json({ offset, limit, total: page.total, recalculations: page.rows.map(recalculationSummaryJson) })
          }),
        ),
      { detail: recalculationsApiDocs.list },
    )
    .get(
      "/:id",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const query = yield* decodeInput(RecalculationQuery, "query")(queryParams(request))
            const detail = yield* recalculationDetail(params.id, query.unmapped_offset, query.unmapped_limit)
            return json({ recalculation: recalculationJson(detail, query.unmapped_offset, query.unmapped_limit) })
          }),
        ),
      { detail: recalculationsApiDocs.get },
    )
