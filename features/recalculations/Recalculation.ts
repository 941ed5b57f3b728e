import { FactorSetId } from "@scopeline/catalogue"
import { Schema } from "effect"

export const RecalculationId = Schema.UUID.pipe(Schema.brand("RecalculationId"))
export type RecalculationId = typeof RecalculationId.Type

export const RecalculationStatus = Schema.Literal("queued", "running", "done", "failed")
export type RecalculationStatus = typeof RecalculationStatus.Type

/** Where a running recalculation is: planning (reading the activities in scope), writing (one transaction). */
export const RecalculationPhase = Schema.Literal("queued", "planning", "writing", "done", "failed")

/** Why an activity was not moved to the target set (migration 0051 explains each). */
export const UnmappedReason = Schema.Literal("not_in_set", "unit_changed", "unit_unknown", "too_large")
export type UnmappedReason = typeof UnmappedReason.Type
export const UNMAPPED_REASONS: ReadonlyArray<UnmappedReason> = UnmappedReason.literals

/** `POST /v1/recalculations`: restate the calculated activities (of one upload, or all) on `factor_set`. */
export const RecalculationRequest = Schema.Struct({
  // Descriptions on the fields, not their types: a type's description becomes its failure message.
  factor_set: Schema.propertySignature(FactorSetId).annotations({ description: "the target set, `SOURCE:YEAR` (GET /v1/factor-sets)" }),
  upload_id: Schema.optional(Schema.UUID).annotations({ description: "only this upload's activities; all when absent" }),
  preview: Schema.optionalWith(Schema.Boolean, { default: () => false }).annotations({
    description: "compute the restatement without changing any activity",
  }),
})
export type RecalculationRequest = typeof RecalculationRequest.Type

const Kg = Schema.String.annotations({ description: "kg CO2e, an exact decimal" })

/** Before, after and the difference of one total, in kg CO2e as exact decimals (sums in NUMERIC). */
export const Amounts = Schema.Struct({ before_kg_co2e: Kg, after_kg_co2e: Kg, change_kg_co2e: Kg })

/**
 * What a recalculation found (and, unless a preview, did): stored as the API shows it. Totals cover
 * every calculated activity in scope (the upload, or all), those of other sources included, so they
 * are the inventory's totals before and after; scope and category are the factor's (before: the old
 * one's, after: the new one's).
 */
export const Restatement = Schema.Struct({
  factor_set: Schema.String,
  counts: Schema.Struct({
    calculated: Schema.Int.annotations({ description: "calculated activities in scope (the upload, or all)" }),
    in_scope: Schema.Int.annotations({ description: "of those, priced on the target set's source" }),
    changed: Schema.Int.annotations({ description: "moved to the target set (a preview: would be)" }),
    emissions_changed: Schema.Int.annotations({ description: "of those, whose emissions differ" }),
    already_on_set: Schema.Int,
    unmapped: Schema.Int.annotations({ description: "left on their factor, listed with the reason" }),
    unmapped_by_reason: Schema.Struct({
      not_in_set: Schema.Int,
      unit_changed: Schema.Int,
      unit_unknown: Schema.Int,
      too_large: Schema.Int,
    }),
    other_sources: Schema.Int.annotations({ description: "priced on another source: out of scope, unchanged" }),
  }),
  totals: Schema.Struct({
    unit: Schema.Literal("kg CO2e"),
    total: Amounts,
    by_scope: Schema.Array(Schema.Struct({ scope: Schema.NullOr(Schema.Int), ...Amounts.fields })),
    by_scope3_category: Schema.Array(Schema.Struct({ category: Schema.Int, ...Amounts.fields })),
  }),
}).annotations({ identifier: "Restatement" })
export type Restatement = typeof Restatement.Type

/** A recalculation as stored. */
export class Recalculation extends Schema.Class<Recalculation>("Recalculation")({
  id: RecalculationId,
  factorSet: Schema.String,
  uploadId: Schema.NullOr(Schema.String),
  preview: Schema.Boolean,
  status: RecalculationStatus,
  phase: RecalculationPhase,
  requestedBy: Schema.NullOr(Schema.String),
  requestedRole: Schema.NullOr(Schema.String),
  correlationId: Schema.String,
  attempts: Schema.Int,
  activitiesInScope: Schema.NullOr(Schema.Int),
  /** JSONB read as text (the client would rename the keys inside it). */
  result: Schema.NullOr(Schema.parseJson(Restatement)),
  error: Schema.NullOr(Schema.String),
  createdAt: Schema.DateFromSelf,
  startedAt: Schema.NullOr(Schema.DateFromSelf),
  finishedAt: Schema.NullOr(Schema.DateFromSelf),
}) {}

/** One activity the recalculation could not move, as the API lists it. */
export class UnmappedActivity extends Schema.Class<UnmappedActivity>("UnmappedActivity")({
  activityId: Schema.String,
  uploadId: Schema.String,
  rowNumber: Schema.NullOr(Schema.Int),
  description: Schema.String,
  quantity: Schema.NullOr(Schema.String),
  unit: Schema.NullOr(Schema.String),
  factorId: Schema.String,
  factorRef: Schema.String,
  reason: UnmappedReason,
  message: Schema.String,
}) {}
