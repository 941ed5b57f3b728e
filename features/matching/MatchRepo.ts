import { SqlClient, SqlSchema } from "@effect/sql"
import type { UploadId } from "@scopeline/uploads"
import { EMISSIONS_LIMIT_TEXT, MAX_ACTIVITY_EMISSIONS_KG } from "@scopeline/catalogue"
import { Effect, Schema, Stream } from "effect"
import type { ReviewStatus } from "./ReviewGate.ts"

/** Why an activity could not be calculated; 'matcher_unavailable' is the only kind a replay retries. */
export type FailureKind = "no_match" | "unit_mismatch" | "invalid" | "matcher_unavailable"

/** One distinct (description, unit, geography) of an upload's unsettled activities. */
export class MatchInput extends Schema.Class<MatchInput>("MatchInput")({
  rawDescription: Schema.String,
  rawUnit: Schema.NullOr(Schema.String),
  geography: Schema.NullOr(Schema.String),
  activities: Schema.Int,
}) {}
const decodeInput = Schema.decodeUnknown(MatchInput)

/**
 * Prices every unsettled activity of the upload with this key and raw unit: `ratio` converts the
 * raw unit to the factor's unit (exact rational from the unit registry, as decimal strings).
 */
export interface Calculation {
  readonly key: string
  readonly rawUnit: string
  readonly factorId: string
  /** Null for a person's decision: it is not a guess with a likelihood. */
  readonly confidence: string | null
  readonly ratioNum: string
  readonly ratioDen: string
  /** What the gate says of this match (REVIEW_BELOW), or "reviewed" for a person's decision. */
  readonly reviewStatus: ReviewStatus
}

/** Fails the unsettled activities with this key (and raw unit, when given). */
export interface Failure {
  readonly key: string
  readonly rawUnit: string | null
  readonly reason: string
  readonly kind: FailureKind
}

export class CacheRow extends Schema.Class<CacheRow>("CacheRow")({
  key: Schema.String,
  factorId: Schema.NullOr(Schema.String),
  confidence: Schema.NullOr(Schema.String),
  source: Schema.Literal("ai", "manual"),
  factorUnit: Schema.NullOr(Schema.String),
  factorName: Schema.NullOr(Schema.String),
}) {}

/** One of the matcher's top candidates for a key, as the cache keeps it (a factor id of the catalogue). */
export interface Candidate {
  readonly factor_id: string
  readonly confidence: number
}

export interface CacheWrite {
  readonly key: string
  readonly descriptionNormalised: string
  readonly unit: string
  readonly geography: string | null
  readonly factorId: string
  readonly confidence: number
  readonly candidates: ReadonlyArray<Candidate>
}

// Statuses a match job may still change: anything else is settled, so redelivery never re-prices.
const UNSETTLED = ["ingested", "matching"] as const

/**
 * Why an activity priced beyond MAX_ACTIVITY_EMISSIONS_KG is failed instead: within the quantity range
 * a large unit and a large factor can still multiply past it, and one such number would dwarf (or,
 * through a double, overflow) every total it is part of.
 */
const TOO_LARGE_REASON =
  `The calculated emissions exceed ${EMISSIONS_LIMIT_TEXT}, the most one activity may have ` +
  "(twenty times the world's yearly emissions): check the quantity and its unit."

/** The raw unit → factor unit ratio of one unit spelling, exact (from the unit registry). */
export interface UnitRatio {
  readonly rawUnit: string
  readonly ratioNum: string
  readonly ratioDen: string
}

/**
 * A change of factor decided after the first pricing: a person's decision (source 'manual') or a new
 * answer of the matcher (source 'ai', a re-match). `target` is one activity, or every decidable activity
 * with the key in every upload (rows a person decided on their own are left alone then).
 */
export interface Repricing {
  /** With `including`, that activity is changed too even when it had a decision of its own. */
  readonly target: { readonly activityId: string } | { readonly key: string; readonly including?: string }
  readonly factorId: string
  readonly ratios: ReadonlyArray<UnitRatio>
  readonly source: "manual" | "ai"
  readonly confidence: string | null
  readonly reviewStatus: ReviewStatus
  readonly decisionScope: "key" | "activity" | null
  readonly changedBy: string | null
  readonly note: string | null
}

/**
 * What this attempt does with one distinct input: its key (null: unmatchable), and, when the cache
 * already answered, the pricing or the failure to apply at once.
 */
export interface ClaimPlan {
  readonly rawDescription: string
  readonly rawUnit: string | null
  readonly geography: string | null
  readonly key: string | null
  readonly calculation?: Pick<Calculation, "factorId" | "confidence" | "ratioNum" | "ratioDen" | "reviewStatus">
  readonly failure?: Pick<Failure, "reason" | "kind">
}

/**
 * The match pipeline's SQL: set-based statements over an upload's activities (never one per row) and
 * the match cache. Every write is guarded by the activity status, which makes a redelivered match job
 * a no-op for everything already settled.
 */
export class MatchRepo extends Effect.Service<MatchRepo>()("scopeline/MatchRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // `a` is the activity, `v` the calculation for its key and raw unit, `f` the factor. PostgreSQL
    // cannot name a computed column inside the same UPDATE, hence one fragment used where needed.
    const emissions = sql`a.raw_volume * v.ratio_num * f.factor_value / v.ratio_den`
    // Each gas priced the same way from the factor's published part (NULL where none is published);
    // `emissions_other` is generated as the remainder, so the parts always add up to `emissions`.
    const gas = (part: "co2_factor" | "ch4_factor" | "n2o_factor") =>
      sql`a.raw_volume * v.ratio_num * ${sql.literal(`f.${part}`)} / v.ratio_den`
    const tooLarge = sql`abs(${emissions}) > ${MAX_ACTIVITY_EMISSIONS_KG}::numeric`
    // A matcher outage's failures are claimable again: that is how a replayed dead letter retries them.
    const claimable = sql`(a.status IN ${sql.in(UNSETTLED)} OR (a.status = 'failed' AND a.failure_kind = 'matcher_unavailable'))`

    /**
     * The upload's distinct claimable inputs, streamed through a cursor: the job holds one page of
     * them at a time, never the whole upload (a file can have as many distinct descriptions as rows).
     */
    const streamInputs = (uploadId: UploadId) =>
      sql`
        SELECT raw_description, raw_unit, geography, count(*)::int AS activities
        FROM activities a
        WHERE upload_id = ${uploadId} AND ${claimable}
        GROUP BY raw_description, raw_unit, geography`.stream.pipe(
        Stream.mapEffect(decodeInput),
        Stream.orDie,
        Stream.withSpan("MatchRepo.streamInputs"),
      )

    /**
     * The attempt's one pass over the upload: every claimable activity gets its key, retry_count + 1
     * and last_attempt_at; those whose key the cache answered are priced ('calculated', source
     * 'cache') or failed in the same statement, the rest wait as 'matching' for the AI matcher. One
     * write per row instead of three is what keeps a 100,000-row cached upload within seconds.
     * Keys come from TypeScript (the unit registry lives there), once per distinct input, joined
     * back here; NULLs are compared through '' because `IS NOT DISTINCT FROM` rules out a hash join.
     */
    const claim = Effect.fn("MatchRepo.claim")(function* (uploadId: UploadId, plans: ReadonlyArray<ClaimPlan>) {
      if (plans.length === 0) return { claimed: 0, fromCache: 0 }
      const col = <A>(f: (plan: ClaimPlan) => A) => plans.map(f)
      // Null (so false) without a factor: no emissions to write then, as before a cache answer.
      const priced = sql`a.raw_volume IS NOT NULL AND v.failure_kind IS NULL AND NOT ${tooLarge}`
      const [row] = yield* sql<{ claimed: number; fromCache: number }>`
        WITH v AS (
          SELECT * FROM unnest(
            ${col((p) => p.rawDescription)}::text[], ${col((p) => p.rawUnit ?? "")}::text[],
            ${col((p) => p.geography ?? "")}::text[], ${col((p) => p.key)}::text[],
            ${col((p) => p.calculation?.factorId ?? null)}::uuid[], ${col((p) => p.calculation?.confidence ?? null)}::numeric[],
            ${col((p) => p.calculation?.ratioNum ?? null)}::numeric[], ${col((p) => p.calculation?.ratioDen ?? null)}::numeric[],
            ${col((p) => p.failure?.reason ?? null)}::text[], ${col((p) => p.failure?.kind ?? null)}::text[],
            ${col((p) => p.calculation?.reviewStatus ?? null)}::text[])
          AS v(raw_description, raw_unit, geography, key, factor_id, confidence, ratio_num, ratio_den, failure_reason, failure_kind, review_status)),
        claimed AS (
          UPDATE activities a
          SET match_key = v.key, retry_count = a.retry_count + 1, last_attempt_at = now(), updated_at = now(),
              status = (CASE WHEN a.raw_volume IS NULL OR v.failure_kind IS NOT NULL OR ${tooLarge} THEN 'failed'
                             WHEN v.factor_id IS NOT NULL THEN 'calculated' ELSE 'matching' END)::activity_status,
              failure_kind = CASE WHEN a.raw_volume IS NULL THEN 'invalid' WHEN v.failure_kind IS NOT NULL THEN v.failure_kind
                                  WHEN ${tooLarge} THEN 'invalid' END,
              failure_reason = CASE WHEN a.raw_volume IS NULL THEN 'The activity has no quantity.'
                                    WHEN v.failure_kind IS NOT NULL THEN v.failure_reason
                                    WHEN ${tooLarge} THEN ${TOO_LARGE_REASON} END,
              emissions = CASE WHEN ${priced} THEN ${emissions} END,
              emissions_co2 = CASE WHEN ${priced} THEN ${gas("co2_factor")} END,
              emissions_ch4 = CASE WHEN ${priced} THEN ${gas("ch4_factor")} END,
              emissions_n2o = CASE WHEN ${priced} THEN ${gas("n2o_factor")} END,
              emissions_unit = CASE WHEN ${priced} THEN 'kg CO2e' END,
              matched_factor_id = CASE WHEN ${priced} THEN f.id END,
              factor_confidence = CASE WHEN ${priced} THEN v.confidence END,
              match_source = CASE WHEN ${priced} THEN 'cache' END,
              review_status = CASE WHEN ${priced} THEN v.review_status END
          FROM v LEFT JOIN emission_factors f ON f.id = v.factor_id
          WHERE a.upload_id = ${uploadId} AND ${claimable}
            AND a.raw_description = v.raw_description AND coalesce(a.raw_unit, '') = v.raw_unit
            AND coalesce(a.geography, '') = v.geography
          RETURNING a.id, a.match_key, a.status, a.matched_factor_id, a.emissions),
        per_key AS (SELECT match_key, count(*) AS n FROM claimed WHERE status = 'calculated' GROUP BY match_key),
        history AS (
          INSERT INTO activity_history (activity_id, source, to_factor_id, to_kg_co2e)
          SELECT id, 'cache', matched_factor_id, emissions FROM claimed WHERE status = 'calculated'
          RETURNING 1),
        hits AS (
          UPDATE match_cache c SET hits = c.hits + per_key.n, updated_at = now()
          FROM per_key WHERE c.key = per_key.match_key
          RETURNING 1)
        SELECT count(*)::int AS claimed, count(*) FILTER (WHERE status = 'calculated')::int AS from_cache FROM claimed`
      return row ?? { claimed: 0, fromCache: 0 }
    })

    /**
     * emissions = raw_volume × (raw unit → factor unit) × factor_value, for every calculation at once;
     * an activity whose emissions would pass MAX_ACTIVITY_EMISSIONS_KG fails instead ('invalid', not
     * retried: the file has to change). Returns how many activities each key priced; with `countAsCacheHits`
     * those counts are added to the cache rows' hits in the same statement.
     */
    const calculate = Effect.fn("MatchRepo.calculate")(function* (
      uploadId: UploadId,
      calculations: ReadonlyArray<Calculation>,
      source: "cache" | "ai",
    ) {
      if (calculations.length === 0) return 0
      const col = <K extends keyof Calculation>(k: K) => calculations.map((c) => c[k])
      const bump = source === "cache"
      const [row] = yield* sql<{ count: number }>`
        WITH v AS (
          SELECT * FROM unnest(${col("key")}::text[], ${col("rawUnit")}::text[], ${col("factorId")}::uuid[],
                               ${col("confidence")}::numeric[], ${col("ratioNum")}::numeric[], ${col("ratioDen")}::numeric[],
                               ${col("reviewStatus")}::text[])
            AS v(key, raw_unit, factor_id, confidence, ratio_num, ratio_den, review_status)),
        priced AS (
          UPDATE activities a
          SET status = (CASE WHEN ${tooLarge} THEN 'failed' ELSE 'calculated' END)::activity_status,
              emissions = CASE WHEN ${tooLarge} THEN NULL ELSE ${emissions} END,
              emissions_co2 = CASE WHEN ${tooLarge} THEN NULL ELSE ${gas("co2_factor")} END,
              emissions_ch4 = CASE WHEN ${tooLarge} THEN NULL ELSE ${gas("ch4_factor")} END,
              emissions_n2o = CASE WHEN ${tooLarge} THEN NULL ELSE ${gas("n2o_factor")} END,
              emissions_unit = CASE WHEN ${tooLarge} THEN NULL ELSE 'kg CO2e' END,
              matched_factor_id = CASE WHEN ${tooLarge} THEN NULL ELSE v.factor_id END,
              factor_confidence = CASE WHEN ${tooLarge} THEN NULL ELSE v.confidence END,
              match_source = CASE WHEN ${tooLarge} THEN NULL ELSE ${source} END,
              review_status = CASE WHEN ${tooLarge} THEN NULL ELSE v.review_status END,
              failure_reason = CASE WHEN ${tooLarge} THEN ${TOO_LARGE_REASON} END,
              failure_kind = CASE WHEN ${tooLarge} THEN 'invalid' END, updated_at = now()
          FROM v JOIN emission_factors f ON f.id = v.factor_id
          WHERE a.upload_id = ${uploadId} AND a.match_key = v.key AND a.raw_unit = v.raw_unit
            AND a.status IN ${sql.in(UNSETTLED)}
          RETURNING a.id, a.match_key, a.status, a.matched_factor_id, a.emissions),
        per_key AS (SELECT match_key, count(*) AS n FROM priced WHERE status = 'calculated' GROUP BY match_key),
        history AS (
          INSERT INTO activity_history (activity_id, source, to_factor_id, to_kg_co2e)
          SELECT id, ${source}, matched_factor_id, emissions FROM priced WHERE status = 'calculated'
          RETURNING 1),
        hits AS (
          UPDATE match_cache c SET hits = c.hits + per_key.n, updated_at = now()
          FROM per_key WHERE ${bump} AND c.key = per_key.match_key
          RETURNING 1)
        SELECT coalesce(sum(n), 0)::int AS count FROM per_key`
      return row?.count ?? 0
    })

    /**
     * Reprices the target's activities on another factor (or the same one, accepted) in one statement,
     * appending a history entry for each activity whose factor or emissions changed. Activities without
     * a quantity, or whose emissions would pass the limit, are not decidable and are left as they are.
     * Returns the activities updated and the uploads they belong to.
     */
    const reprice = Effect.fn("MatchRepo.reprice")(function* (change: Repricing) {
      const target =
        "activityId" in change.target
          ? sql`a.id = ${change.target.activityId}`
          : sql`a.match_key = ${change.target.key} AND (a.decision_scope IS DISTINCT FROM 'activity' OR a.id = ${change.target.including ?? null}::uuid)`
      const [row] = yield* sql<{ updated: number; uploadIds: ReadonlyArray<string> | null }>`
        WITH v AS (
          SELECT * FROM unnest(${change.ratios.map((r) => r.rawUnit)}::text[], ${change.ratios.map((r) => r.ratioNum)}::numeric[],
                               ${change.ratios.map((r) => r.ratioDen)}::numeric[]) AS v(raw_unit, ratio_num, ratio_den)),
        old AS (
          SELECT a.id, a.matched_factor_id, a.emissions FROM activities a
          WHERE ${target} AND a.raw_volume IS NOT NULL
            -- Rows a running match job is still waiting on are priced now: the job only ever writes
            -- unsettled rows, so its later answer cannot undo the decision.
            AND (a.status IN ('calculated', 'matching') OR (a.status = 'failed' AND a.failure_kind IN ('no_match', 'unit_mismatch', 'matcher_unavailable')))
          FOR UPDATE),
        changed AS (
          UPDATE activities a
          SET status = 'calculated', emissions = ${emissions}, emissions_co2 = ${gas("co2_factor")},
              emissions_ch4 = ${gas("ch4_factor")}, emissions_n2o = ${gas("n2o_factor")}, emissions_unit = 'kg CO2e',
              matched_factor_id = f.id, factor_confidence = ${change.confidence}::numeric, match_source = ${change.source},
              review_status = ${change.reviewStatus}, decision_scope = ${change.decisionScope},
              failure_kind = NULL, failure_reason = NULL, updated_at = now()
          FROM old, v, emission_factors f
          WHERE a.id = old.id AND a.raw_unit = v.raw_unit AND f.id = ${change.factorId} AND NOT ${tooLarge}
          RETURNING a.id, a.upload_id, old.matched_factor_id AS from_factor_id, old.emissions AS from_kg,
                    a.matched_factor_id AS to_factor_id, a.emissions AS to_kg),
        history AS (
          -- The time of the change itself, not of its transaction's start: decisions on a key take turns
          -- (Review.ts), so their entries read in the order they were made.
          INSERT INTO activity_history (activity_id, at, changed_by, source, from_factor_id, to_factor_id, from_kg_co2e, to_kg_co2e, note)
          SELECT id, clock_timestamp(), ${change.changedBy}::uuid, ${change.source}, from_factor_id, to_factor_id, from_kg, to_kg, ${change.note}
          FROM changed
          -- A person's decision is always an entry, an acceptance too (same factor before and after):
          -- who reviewed the activity, when and why is what its history is read for.
          WHERE from_factor_id IS DISTINCT FROM to_factor_id OR from_kg IS DISTINCT FROM to_kg OR ${change.source} = 'manual'
          RETURNING 1)
        SELECT count(*)::int AS updated, array_agg(DISTINCT upload_id::text) AS upload_ids FROM changed`
      return { updated: row?.updated ?? 0, uploadIds: row?.uploadIds ?? [] }
    })

    const fail = Effect.fn("MatchRepo.fail")(function* (uploadId: UploadId, failures: ReadonlyArray<Failure>) {
      if (failures.length === 0) return
      yield* sql`
        UPDATE activities a
        SET status = 'failed', failure_reason = v.reason, failure_kind = v.kind, review_status = NULL, updated_at = now()
        FROM unnest(${failures.map((f) => f.key)}::text[], ${failures.map((f) => f.rawUnit ?? "")}::text[],
                    ${failures.map((f) => f.reason)}::text[], ${failures.map((f) => f.kind)}::text[])
             AS v(key, raw_unit, reason, kind)
        WHERE a.upload_id = ${uploadId} AND a.match_key = v.key AND (v.raw_unit = '' OR a.raw_unit = v.raw_unit)
          AND a.status IN ${sql.in(UNSETTLED)}`
    })

    const lookupCache = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: CacheRow,
      execute: (keys) => sql`
        SELECT c.key, c.factor_id::text AS factor_id, c.confidence::text AS confidence, c.source,
               f.unit AS factor_unit, f.name AS factor_name
        FROM match_cache c LEFT JOIN emission_factors f ON f.id = c.factor_id
        WHERE c.key = ANY(${keys}::text[])`,
    })

    /** A batch of AI answers in one statement; an AI answer never overwrites a manual override. */
    const writeCache = Effect.fn("MatchRepo.writeCache")(function* (entries: ReadonlyArray<CacheWrite>) {
      if (entries.length === 0) return
      const col = <K extends keyof CacheWrite>(k: K) => entries.map((entry) => entry[k])
      yield* sql`
        INSERT INTO match_cache (key, description_normalised, unit, geography, factor_id, confidence, candidates, source)
        SELECT key, description_normalised, unit, geography, factor_id, confidence, candidates::jsonb, 'ai'
        FROM unnest(${col("key")}::text[], ${col("descriptionNormalised")}::text[], ${col("unit")}::text[],
                    ${col("geography")}::text[], ${col("factorId")}::uuid[], ${col("confidence")}::numeric[],
                    ${entries.map((entry) => JSON.stringify(entry.candidates))}::text[])
             AS v(key, description_normalised, unit, geography, factor_id, confidence, candidates)
        -- In key order: two batches written at once (MatchUpload's writers) lock shared keys alike.
        ORDER BY key
        ON CONFLICT (key) DO UPDATE SET factor_id = EXCLUDED.factor_id, confidence = EXCLUDED.confidence,
          candidates = EXCLUDED.candidates, updated_at = now()
        WHERE match_cache.source = 'ai'`
    })

    return {
      streamInputs,
      claim,
      calculate,
      reprice,
      fail,
      lookupCache: (keys: ReadonlyArray<string>) =>
        keys.length === 0 ? Effect.succeed([]) : lookupCache(keys).pipe(Effect.withSpan("MatchRepo.lookupCache")),
      writeCache,
    }
  }),
}) {}
