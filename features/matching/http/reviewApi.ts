import { guard } from "@scopeline/accounts"
import { decodeInput, jsonBody, QueryInt, queryParams } from "@scopeline/ui/decode"
import { BadRequest } from "@scopeline/ui/ApiError"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { ActivityNotFound } from "../errors.ts"
import { decodeQueueCursor, DecisionRequest, encodeQueueCursor, Review } from "../Review.ts"
import { ReviewStatusSchema } from "../ReviewGate.ts"
import type { FactorBrief, HistoryRow, ReviewItemRow } from "../ReviewRepo.ts"
import type { MatchingServices } from "./services.ts"

const IdParam = Schema.Struct({ id: Schema.String })

/** A path id that is not a UUID names no activity: the same 404 as an unknown one. */
export const activityIdOf = (id: string) =>
  Schema.decodeUnknown(Schema.UUID)(id).pipe(Effect.mapError(() => new ActivityNotFound({ message: "There is no activity with this id." })))

export const ReviewQueueParams = Schema.Struct({
  limit: Schema.optionalWith(QueryInt.pipe(Schema.between(1, 200, { message: () => "must be between 1 and 200" })), { default: () => 25 }),
  cursor: Schema.optional(Schema.String),
})

const FactorJson = Schema.Struct({
  id: Schema.String,
  ref: Schema.String,
  name: Schema.String,
  unit: Schema.String.annotations({ description: "the unit the factor is per, as published" }),
  factor_value: Schema.String.annotations({ description: "what one unit emits, as an exact decimal" }),
  factor_unit: Schema.String.annotations({ description: "what the value is in: kg CO2e" }),
})

const factorJson = (factor: FactorBrief): typeof FactorJson.Type => ({
  id: factor.id,
  ref: factor.ref,
  name: factor.name,
  unit: factor.unit,
  factor_value: factor.factorValue,
  factor_unit: factor.factorUnit,
})

const ReviewItemJson = Schema.Struct({
  match_key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.NullOr(Schema.String),
  activity_count: Schema.Number,
  failed_count: Schema.Number,
  kg_co2e: Schema.Number,
  factor: Schema.NullOr(FactorJson),
  confidence: Schema.NullOr(Schema.Number),
  candidates: Schema.Array(Schema.Struct({ factor: FactorJson, confidence: Schema.Number })),
  activity_id: Schema.String.annotations({ description: "one activity of the key: address decisions and re-matches to it" }),
})

export const reviewItemJson = (row: ReviewItemRow): typeof ReviewItemJson.Type => ({
  match_key: row.matchKey,
  description: row.description,
  unit: row.unit,
  geography: row.geography,
  activity_count: row.activityCount,
  failed_count: row.failed,
  kg_co2e: Number(row.kgCo2e),
  factor: row.factor === null ? null : factorJson(row.factor),
  confidence: row.confidence === null ? null : Number(row.confidence),
  candidates: row.candidates.map((candidate) => ({ factor: factorJson(candidate.factor), confidence: candidate.confidence })),
  activity_id: row.sampleActivityId,
})

const HistoryJson = Schema.Struct({
  at: Schema.String,
  by: Schema.NullOr(Schema.Struct({ id: Schema.String, email: Schema.NullOr(Schema.String) })),
  source: Schema.Literal("ai", "cache", "manual", "recalculation"),
  from_factor: Schema.NullOr(FactorJson),
  to_factor: Schema.NullOr(FactorJson),
  from_kg_co2e: Schema.NullOr(Schema.Number),
  to_kg_co2e: Schema.NullOr(Schema.Number),
  note: Schema.NullOr(Schema.String),
  recalculation_id: Schema.NullOr(Schema.String),
})

export const historyJson = (row: HistoryRow): typeof HistoryJson.Type => ({
  at: row.at.toISOString(),
  by: row.byId === null ? null : { id: row.byId, email: row.byEmail },
  source: row.source,
  from_factor: row.fromFactor === null ? null : factorJson(row.fromFactor),
  to_factor: row.toFactor === null ? null : factorJson(row.toFactor),
  from_kg_co2e: row.fromKgCo2e === null ? null : Number(row.fromKgCo2e),
  to_kg_co2e: row.toKgCo2e === null ? null : Number(row.toKgCo2e),
  note: row.note,
  recalculation_id: row.recalculationId,
})

const DecisionJson = Schema.Struct({
  decision: Schema.Struct({
    activity_id: Schema.String,
    match_key: Schema.NullOr(Schema.String),
    applies_to: Schema.Literal("key", "activity"),
    factor: FactorJson,
    note: Schema.NullOr(Schema.String),
    decided_by: Schema.String,
    decided_at: Schema.String,
  }),
  activities_updated: Schema.Number,
})

export const reviewApiDocs = {
  queue: documented({
    summary: "The review queue: one item per match key that needs a person, largest emissions first",
    description:
      "Keys with an automatic match below REVIEW_BELOW (`needs_review`) or whose activities failed with no usable factor (`no_match`, `unit_mismatch`). " +
      "Each item carries the chosen factor and the matcher's candidates, so a decision needs no new matcher call. Follow `next_cursor`.",
    tag: "review",
    access: "view",
    query: ReviewQueueParams,
    responses: { 200: { description: "One page of the queue.", schema: Schema.Struct({ items: Schema.Array(ReviewItemJson), next_cursor: Schema.NullOr(Schema.String) }) } },
  }),
  decide: documented({
    summary: "Decide an activity's factor: choose one (`factor_id`) or accept the matcher's (`accept: true`)",
    description:
      '`applies_to: "key"` (default) sets every activity with this match key, in every upload, in one statement, and makes the match cache answer the key ' +
      'with this factor from now on (the matcher never overwrites it). `"activity"` changes this row only, and later key decisions leave it alone. ' +
      "The factor must measure the activity's dimension (400 `unit_incompatible` otherwise). Each change is in the activity's history and the audit log.",
    tag: "review",
    access: "upload",
    changes: true,
    params: IdParam,
    body: DecisionRequest,
    responses: { 200: { description: "The decision and how many activities it changed.", schema: DecisionJson } },
    errors: [404, 409],
  }),
  history: documented({
    summary: "Every change of an activity's factor or emissions, oldest first",
    tag: "review",
    access: "view",
    params: IdParam,
    responses: { 200: { description: "The activity's history.", schema: Schema.Struct({ activity_id: Schema.String, history: Schema.Array(HistoryJson) }) } },
    errors: [404],
  }),
  rematch: documented({
    summary: "Ask the matcher again for this activity's key, skipping the cache",
    description:
      "The answer replaces the automatic match of every activity with the key (rows decided on their own stay). Refused with 409 `manual_decision` when a person decided the key.",
    tag: "review",
    access: "upload",
    changes: true,
    params: IdParam,
    responses: {
      200: {
        description: "The matcher's answer and how many activities it changed.",
        schema: Schema.Struct({
          match: Schema.Struct({
            match_key: Schema.String,
            factor: Schema.NullOr(FactorJson),
            confidence: Schema.Number,
            review_status: Schema.NullOr(ReviewStatusSchema),
            reason: Schema.NullOr(Schema.String),
            candidates: Schema.Array(Schema.Struct({ factor: FactorJson, confidence: Schema.Number })),
          }),
          activities_updated: Schema.Number,
        }),
      },
    },
    errors: [404, 409, 503],
  }),
}

const badCursor = () =>
  new BadRequest({ message: "The cursor is not one this server issued.", details: [{ path: "cursor", message: "is not a cursor this server issued" }] })

/** The review queue, decisions, re-matches and activity history. */
export const reviewApi = (respond: Responder<MatchingServices>) =>
  new Elysia({ name: "api.review", prefix: "/v1" })
    .get(
      "/review",
      ({ request }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const params = yield* decodeInput(ReviewQueueParams, "query")(queryParams(request))
            const after = params.cursor === undefined ? null : yield* Option.match(decodeQueueCursor(params.cursor), { onNone: () => Effect.fail(badCursor()), onSome: Effect.succeed })
            const page = yield* (yield* Review).queue(params.limit, after)
            return json({ items: page.items.map(reviewItemJson), next_cursor: page.next === null ? null : encodeQueueCursor(page.next) })
          }),
        ),
      { detail: reviewApiDocs.queue },
    )
    .post(
      "/activities/:id/decision",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const id = yield* activityIdOf(params.id)
            const body = yield* jsonBody(request).pipe(Effect.flatMap(decodeInput(DecisionRequest, "decision")))
            const result = yield* (yield* Review).decide(id, body, { userId: principal.userId, role: principal.role })
            return json({ ...result, decision: { ...result.decision, decided_at: result.decision.decided_at.toISOString() } })
          }),
        ),
      { parse: "none", detail: reviewApiDocs.decide },
    )
    .get(
      "/activities/:id/history",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            yield* guard(request, "view")
            const id = yield* activityIdOf(params.id)
            const rows = yield* (yield* Review).history(id)
            return json({ activity_id: id, history: rows.map(historyJson) })
          }),
        ),
      { detail: reviewApiDocs.history },
    )
    .post(
      "/activities/:id/rematch",
      ({ request, params }) =>
        respond.api(
          request,
          Effect.gen(function* () {
            const principal = yield* guard(request, "upload", "change")
            const id = yield* activityIdOf(params.id)
            return json(yield* (yield* Review).rematch(id, { userId: principal.userId, role: principal.role }))
          }),
        ),
      { parse: "none", detail: reviewApiDocs.rematch },
    )
