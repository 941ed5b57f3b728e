import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { ReviewStatusSchema } from "./ReviewGate.ts"

/** An activity as a decision sees it: its key, its unit, and the factor it has now. */
export class DecidableActivity extends Schema.Class<DecidableActivity>("DecidableActivity")({
  id: Schema.String,
  uploadId: Schema.String,
  matchKey: Schema.NullOr(Schema.String),
  description: Schema.String,
  rawUnit: Schema.NullOr(Schema.String),
  quantity: Schema.NullOr(Schema.String),
  geography: Schema.NullOr(Schema.String),
  status: Schema.String,
  failureKind: Schema.NullOr(Schema.String),
  factorId: Schema.NullOr(Schema.String),
  reviewStatus: Schema.NullOr(ReviewStatusSchema),
  cacheSource: Schema.NullOr(Schema.Literal("ai", "manual")),
}) {}

/** A factor as the review queue shows it: enough to recognise and cite it. */
// The value travels as text inside the JSON: its exact digits, never a double.
const FactorBrief = Schema.Struct({
  id: Schema.String,
  ref: Schema.String,
  name: Schema.String,
  unit: Schema.String,
  factorValue: Schema.String,
  factorUnit: Schema.String,
})
export type FactorBrief = typeof FactorBrief.Type

export class ReviewItemRow extends Schema.Class<ReviewItemRow>("ReviewItemRow")({
  matchKey: Schema.String,
  description: Schema.String,
  unit: Schema.String,
  geography: Schema.NullOr(Schema.String),
  activityCount: Schema.Int,
  kgCo2e: Schema.String,
  failed: Schema.Int,
  // A sample activity of the key: the decision endpoint is addressed by activity.
  sampleActivityId: Schema.String,
  factor: Schema.NullOr(Schema.parseJson(FactorBrief)),
  confidence: Schema.NullOr(Schema.String),
  candidates: Schema.parseJson(Schema.Array(Schema.Struct({ factor: FactorBrief, confidence: Schema.Number }))),
}) {}

export class HistoryRow extends Schema.Class<HistoryRow>("HistoryRow")({
  id: Schema.String,
  at: Schema.DateFromSelf,
  byId: Schema.NullOr(Schema.String),
  byEmail: Schema.NullOr(Schema.String),
  source: Schema.Literal("ai", "cache", "manual", "recalculation"),
  fromFactor: Schema.NullOr(Schema.parseJson(FactorBrief)),
  toFactor: Schema.NullOr(Schema.parseJson(FactorBrief)),
  fromKgCo2e: Schema.NullOr(Schema.String),
  toKgCo2e: Schema.NullOr(Schema.String),
  note: Schema.NullOr(Schema.String),
  recalculationId: Schema.NullOr(Schema.String),
}) {}

/** Where the queue continues: after this key's emissions, then key (largest first, ties by key). */
export interface QueueKey {
  readonly kg: string
  readonly key: string
}

/** What a decision on a key writes into the match cache so the next upload reuses it. */
export interface ManualEntry {
  readonly key: string
  readonly descriptionNormalised: string
  readonly unit: string
  readonly geography: string | null
  readonly factorId: string
  readonly decidedBy: string
  readonly note: string | null
}

// What needs a person: an automatic match under the gate, or an answer that found no usable factor.
const NEEDS_A_PERSON = `(a.review_status = 'needs_review' OR (a.status = 'failed' AND a.failure_kind IN ('no_match', 'unit_mismatch')))`

/** The review side of matching in SQL: the queue by key, an activity's history, manual cache entries. */
export class ReviewRepo extends Effect.Service<ReviewRepo>()("scopeline/ReviewRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const brief = (alias: string) =>
      sql.literal(`CASE WHEN ${alias}.id IS NULL THEN NULL ELSE json_build_object('id', ${alias}.id, 'ref', ${alias}.ref, 'name', ${alias}.name, 'unit', ${alias}.unit, 'factorValue', ${alias}.factor_value::text, 'factorUnit', ${alias}.factor_unit)::text END`)

    const activity = SqlSchema.findOne({
      Request: Schema.String,
      Result: DecidableActivity,
      execute: (id) => sql`
        SELECT a.id, a.upload_id, a.match_key, a.raw_description AS description, a.raw_unit, a.raw_volume::text AS quantity,
               a.geography, a.status, a.failure_kind, a.matched_factor_id AS factor_id, a.review_status, c.source AS cache_source
        FROM activities a LEFT JOIN match_cache c ON c.key = a.match_key
        WHERE a.id = ${id}`,
    })

    /** The unit spellings used with a key by the activities a key decision would change. */
    const rawUnitsOfKey = (key: string) =>
      sql<{ rawUnit: string }>`
        SELECT DISTINCT raw_unit FROM activities
        WHERE match_key = ${key} AND raw_unit IS NOT NULL AND decision_scope IS DISTINCT FROM 'activity'`.pipe(
        Effect.map((rows) => rows.map((row) => row.rawUnit)),
      )

    const queue = SqlSchema.findAll({
      Request: Schema.Struct({ limit: Schema.Int, after: Schema.NullOr(Schema.Struct({ kg: Schema.String, key: Schema.String })) }),
      Result: ReviewItemRow,
      execute: ({ limit, after }) => sql`
        -- The keys as the database keeps them (migration 0053), a page at a time in the queue's order;
        -- each shows its lowest-id activity that needs a person (activities_review_idx holds it).
        WITH page AS (
          SELECT k.match_key, k.activities::int AS activity_count, k.emissions AS kg, k.failed::int AS failed,
                 s.id AS sample_activity_id, s.raw_description AS description, s.raw_unit, s.geography
          FROM review_queue_keys k
          CROSS JOIN LATERAL (
            SELECT a.id, a.raw_description, a.raw_unit, a.geography FROM activities a
            WHERE a.match_key = k.match_key AND ${sql.literal(NEEDS_A_PERSON)}
            ORDER BY a.id LIMIT 1) s
          WHERE ${after === null ? sql`true` : sql`(k.emissions < ${after.kg}::numeric OR (k.emissions = ${after.kg}::numeric AND k.match_key > ${after.key}))`}
          ORDER BY k.emissions DESC, k.match_key LIMIT ${limit})
        SELECT p.match_key, p.description, coalesce(c.unit, p.raw_unit) AS unit, p.geography, p.activity_count, trim_scale(p.kg)::text AS kg_co2e,
               p.failed, p.sample_activity_id::text AS sample_activity_id, ${brief("f")} AS factor, c.confidence::text AS confidence,
               coalesce((
                 SELECT json_agg(json_build_object('factor', json_build_object('id', cf.id, 'ref', cf.ref, 'name', cf.name, 'unit', cf.unit,
                                                                             'factorValue', cf.factor_value::text, 'factorUnit', cf.factor_unit),
                                                   'confidence', (cand->>'confidence')::float8) ORDER BY ord)
                 FROM jsonb_array_elements(c.candidates) WITH ORDINALITY AS x(cand, ord)
                 JOIN emission_factors cf ON cf.id = (cand->>'factor_id')::uuid), '[]')::text AS candidates
        FROM page p
        LEFT JOIN match_cache c ON c.key = p.match_key
        LEFT JOIN emission_factors f ON f.id = c.factor_id
        ORDER BY p.kg DESC, p.match_key`,
    })

    const history = SqlSchema.findAll({
      Request: Schema.String,
      Result: HistoryRow,
      execute: (activityId) => sql`
        SELECT h.id::text AS id, h.at, h.changed_by AS by_id, u.email AS by_email, h.source,
               ${brief("ff")} AS from_factor, ${brief("tf")} AS to_factor,
               h.from_kg_co2e::text AS from_kg_co2e, h.to_kg_co2e::text AS to_kg_co2e, h.note, h.recalculation_id::text AS recalculation_id
        FROM activity_history h
        LEFT JOIN users u ON u.id = h.changed_by
        LEFT JOIN emission_factors ff ON ff.id = h.from_factor_id
        LEFT JOIN emission_factors tf ON tf.id = h.to_factor_id
        WHERE h.activity_id = ${activityId}
        ORDER BY h.id`,
    })

    /** A person's decision for a key: it replaces whatever the matcher said, and the matcher never overwrites it. */
    const writeManual = Effect.fn("ReviewRepo.writeManual")(function* (entry: ManualEntry) {
      yield* sql`
        INSERT INTO match_cache (key, description_normalised, unit, geography, factor_id, confidence, source, decided_by, decided_at, note)
        VALUES (${entry.key}, ${entry.descriptionNormalised}, ${entry.unit}, ${entry.geography}, ${entry.factorId}, NULL, 'manual',
                ${entry.decidedBy}, now(), ${entry.note})
        ON CONFLICT (key) DO UPDATE SET factor_id = EXCLUDED.factor_id, confidence = NULL, source = 'manual',
          decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at, note = EXCLUDED.note, updated_at = now()`
    })

    return {
      activity: (id: string) => activity(id).pipe(Effect.orDie, Effect.withSpan("ReviewRepo.activity")),
      rawUnitsOfKey: (key: string) => rawUnitsOfKey(key).pipe(Effect.orDie),
      queue: (limit: number, after: QueueKey | null) => queue({ limit, after }).pipe(Effect.orDie, Effect.withSpan("ReviewRepo.queue")),
      history: (activityId: string) => history(activityId).pipe(Effect.orDie, Effect.withSpan("ReviewRepo.history")),
      writeManual,
    }
  }),
}) {}
