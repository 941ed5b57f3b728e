import { Schema } from "effect"

/**
 * The AI matcher's HTTP contract, `POST /v1/match` (docs/matching.md), defined once: the client in
 * AiMatcherClient.ts and the reference matcher in apps/matcher decode with these same Schemas.
 */
export const MatchItem = Schema.Struct({
  /** The match key; the answer for it carries the same key. */
  key: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.optional(Schema.NullOr(Schema.String)),
})
export type MatchItem = typeof MatchItem.Type

export const MatchRequest = Schema.Struct({
  items: Schema.Array(MatchItem).pipe(Schema.maxItems(1000)),
})
export type MatchRequest = typeof MatchRequest.Type

/** A factor the matcher considered, with its own confidence. */
export const MatchCandidate = Schema.Struct({
  factor_id: Schema.String,
  confidence: Schema.Number.pipe(Schema.between(0, 1)),
})
export type MatchCandidate = typeof MatchCandidate.Type

export const MatchResult = Schema.Struct({
  key: Schema.String,
  /** The factor's stable ref (`DESNZ:2023:…`, `Ember:2024:SGP`), never a database id; null when nothing fits. */
  factor_id: Schema.NullOr(Schema.String),
  confidence: Schema.Number.pipe(Schema.between(0, 1)),
  reason: Schema.optional(Schema.String),
  /**
   * The top factors considered, best first, at most 5. When a factor is chosen it is the first, with
   * the same confidence; a no-match may still list the nearest factors (low confidences) for review.
   * Optional on the wire, `[]` when omitted, so a matcher that predates it still decodes.
   */
  candidates: Schema.optionalWith(Schema.Array(MatchCandidate).pipe(Schema.maxItems(5)), { default: () => [] }),
})
export type MatchResult = typeof MatchResult.Type

export const MatchResponse = Schema.Struct({ results: Schema.Array(MatchResult) })
export type MatchResponse = typeof MatchResponse.Type
