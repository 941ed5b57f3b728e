import { SqlClient, SqlSchema } from "@effect/sql"
import { EMISSIONS_LIMIT_TEXT, MAX_ACTIVITY_EMISSIONS_KG } from "@scopeline/catalogue"
import { Data, Effect, Schema } from "effect"
import {
  Recalculation,
  type RecalculationId,
  type Restatement,
  UnmappedActivity,
  type UnmappedReason,
} from "./Recalculation.ts"

const columns = `id, factor_set, upload_id::text AS upload_id, preview, status, phase, requested_by::text AS requested_by,
  requested_role, correlation_id, attempts, activities_in_scope, result::text AS result, error, created_at, started_at, finished_at`

/** What a job needs to run a recalculation it claimed: the row, and the lease that names its claim. */
export interface Claimed {
  readonly recalculation: Recalculation
  readonly lease: string
}

/** The scope of one run: which set it restates on, and which activities (one upload's, or all). */
export interface Scope {
  readonly id: RecalculationId
  readonly source: string
  readonly year: number
  readonly uploadId: string | null
}

/** One distinct (raw unit, old factor unit, target row unit) of the activities in scope. */
export interface UnitPair {
  readonly rawUnit: string
  readonly fromUnit: string
  readonly toUnit: string
}

/** How a pair is priced on the target row: an exact ratio from the unit registry, or why it cannot be. */
export type PairPlan = UnitPair & ({ readonly ratioNum: string; readonly ratioDen: string } | { readonly reason: UnmappedReason })

/** The claim was taken over (its lease expired and another worker claimed the recalculation). */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{ readonly id: string }> {}

// A claim is held this long and renewed by the running job; a worker that died frees it then.
export const LEASE_SECONDS = 120
// A recalculation whose worker stopped this many times while running it is failed, not retried again.
export const MAX_ATTEMPTS = 3

const CountsRow = Schema.Struct({
  calculated: Schema.Int,
  inScope: Schema.Int,
  alreadyOnSet: Schema.Int,
  otherSources: Schema.Int,
  changed: Schema.Int,
  emissionsChanged: Schema.Int,
  notInSet: Schema.Int,
  unitChanged: Schema.Int,
  unitUnknown: Schema.Int,
  tooLarge: Schema.Int,
})

const TotalsRow = Schema.Struct({
  scope: Schema.NullOr(Schema.Int),
  category: Schema.NullOr(Schema.Int),
  noScope: Schema.Int,
  noCategory: Schema.Int,
  beforeKg: Schema.String,
  afterKg: Schema.String,
  changeKg: Schema.String,
})

/**
 * The recalculations' SQL. The run's statements are set-based over the activities in scope (never one
 * per row) and are meant to be called inside one transaction: the plan is a temporary table dropped at
 * commit, from which the counts, the totals, the unmapped list, the update and the history are written.
 */
export class RecalculationsRepo extends Effect.Service<RecalculationsRepo>()("scopeline/RecalculationsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    /** `a` is the activity, `f` its factor now: the calculated activities of the scope. */
    const inScope = (scope: Scope) =>
      sql.and([sql`a.status = 'calculated'`, ...(scope.uploadId === null ? [] : [sql`a.upload_id = ${scope.uploadId}::uuid`])])
    /** …of them, those on the target's source and not on the target set yet: the ones to move. */
    const toMove = (scope: Scope) => sql.and([inScope(scope), sql`f.source = ${scope.source}`, sql`f.year <> ${scope.year}`])
    const mapped = sql`(p.activity_id IS NOT NULL AND p.reason IS NULL)`

    const insert = SqlSchema.single({
      Request: Schema.Struct({
        factorSet: Schema.String,
        uploadId: Schema.NullOr(Schema.String),
        preview: Schema.Boolean,
        requestedBy: Schema.String,
        requestedRole: Schema.String,
        correlationId: Schema.String,
      }),
      Result: Recalculation,
      execute: (r) => sql`
        INSERT INTO recalculations (factor_set, upload_id, preview, requested_by, requested_role, correlation_id)
        VALUES (${r.factorSet}, ${r.uploadId}::uuid, ${r.preview}, ${r.requestedBy}::uuid, ${r.requestedRole}, ${r.correlationId})
        RETURNING ${sql.literal(columns)}`,
    })

    const byId = SqlSchema.findOne({
      Request: Schema.String,
      Result: Recalculation,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM recalculations WHERE id = ${id}::uuid`,
    })

    const page = SqlSchema.findAll({
      Request: Schema.Struct({ offset: Schema.Int, limit: Schema.Int }),
      Result: Schema.Struct({ ...Recalculation.fields, total: Schema.Int }),
      execute: ({ offset, limit }) => sql`
        SELECT ${sql.literal(columns)}, count(*) OVER ()::int AS total FROM recalculations
        ORDER BY created_at DESC, id DESC OFFSET ${offset} LIMIT ${limit}`,
    })

    const unmappedPage = SqlSchema.findAll({
      Request: Schema.Struct({ id: Schema.String, offset: Schema.Int, limit: Schema.Int }),
      Result: Schema.Struct({ ...UnmappedActivity.fields, total: Schema.Int }),
      execute: ({ id, offset, limit }) => sql`
        SELECT u.activity_id::text AS activity_id, a.upload_id::text AS upload_id, a.row_number, a.raw_description AS description,
               a.raw_volume::text AS quantity, a.raw_unit AS unit, u.factor_id::text AS factor_id, f.ref AS factor_ref,
               u.reason, u.message, count(*) OVER ()::int AS total
        FROM recalculation_unmapped u
        JOIN activities a ON a.id = u.activity_id
        JOIN emission_factors f ON f.id = u.factor_id
        WHERE u.recalculation_id = ${id}::uuid
        ORDER BY a.upload_id, a.row_number, a.id OFFSET ${offset} LIMIT ${limit}`,
    })

    const claimOne = SqlSchema.findOne({
      Request: Schema.Void,
      Result: Schema.Struct({ ...Recalculation.fields, lease: Schema.String }),
      // A queued row, or one whose worker stopped (its lease passed): claimed by one worker only.
      execute: () => sql`
        UPDATE recalculations r
        SET status = 'running', phase = 'planning', attempts = r.attempts + 1, lease = gen_random_uuid(),
            lease_until = now() + make_interval(secs => ${LEASE_SECONDS}), started_at = coalesce(r.started_at, now())
        WHERE r.id = (
          SELECT id FROM recalculations
          WHERE (status = 'queued' OR (status = 'running' AND lease_until < now())) AND attempts < ${MAX_ATTEMPTS}
          ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${sql.literal(columns)}, lease::text AS lease`,
    })

    return {
      insert: (request: Parameters<typeof insert>[0]) => insert(request).pipe(Effect.orDie, Effect.withSpan("RecalculationsRepo.insert")),
      findById: (id: string) => byId(id).pipe(Effect.orDie, Effect.withSpan("RecalculationsRepo.findById")),
      list: Effect.fn("RecalculationsRepo.list")(function* (offset: number, limit: number) {
        const rows = yield* page({ offset, limit }).pipe(Effect.orDie)
        return { rows: rows.map(({ total: _, ...row }) => Recalculation.make(row)), total: rows[0]?.total ?? 0 }
      }),
      unmapped: Effect.fn("RecalculationsRepo.unmapped")(function* (id: string, offset: number, limit: number) {
        const rows = yield* unmappedPage({ id, offset, limit }).pipe(Effect.orDie)
        return { rows: rows.map(({ total: _, ...row }) => UnmappedActivity.make(row)), total: rows[0]?.total ?? 0 }
      }),

      /** Fails the recalculations whose worker stopped MAX_ATTEMPTS times, then claims the oldest claimable one. */
      claim: Effect.fn("RecalculationsRepo.claim")(function* () {
        yield* sql`
          UPDATE recalculations SET status = 'failed', phase = 'failed', finished_at = now(), lease = NULL, lease_until = NULL,
            error = ${`The worker stopped ${MAX_ATTEMPTS} times while running it; nothing was changed.`}
          WHERE status = 'running' AND lease_until < now() AND attempts >= ${MAX_ATTEMPTS}`
        const row = yield* claimOne(undefined)
        if (row._tag === "None") return undefined
        const { lease, ...recalculation } = row.value
        return { recalculation: Recalculation.make(recalculation), lease } satisfies Claimed
      }),
      /** Extends the claim while the job runs; false once another worker holds it. */
      renew: Effect.fn("RecalculationsRepo.renew")(function* (id: string, lease: string) {
        const rows = yield* sql`
          UPDATE recalculations SET lease_until = now() + make_interval(secs => ${LEASE_SECONDS})
          WHERE id = ${id}::uuid AND lease = ${lease}::uuid AND status = 'running' RETURNING 1`
        return rows.length > 0
      }),
      setPhase: Effect.fn("RecalculationsRepo.setPhase")(function* (id: string, lease: string, phase: "writing", activitiesInScope: number) {
        yield* sql`
          UPDATE recalculations SET phase = ${phase}, activities_in_scope = ${activitiesInScope}
          WHERE id = ${id}::uuid AND lease = ${lease}::uuid AND status = 'running'`
      }),
      fail: Effect.fn("RecalculationsRepo.fail")(function* (id: string, lease: string, message: string) {
        yield* sql`
          UPDATE recalculations SET status = 'failed', phase = 'failed', error = ${message}, finished_at = now(), lease = NULL, lease_until = NULL
          WHERE id = ${id}::uuid AND lease = ${lease}::uuid AND status = 'running'`
      }),

      /** How many activities a run moves or lists (read before its transaction, for its progress). */
      countToMove: Effect.fn("RecalculationsRepo.countToMove")(function* (scope: Scope) {
        const [row] = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id WHERE ${toMove(scope)}`
        return row?.n ?? 0
      }),

      /**
       * Serialises restatements that apply (a transaction-scoped advisory lock), then locks the
       * activities to move, so a decision taken meanwhile on one of them waits for the commit.
       */
      lockForApply: Effect.fn("RecalculationsRepo.lockForApply")(function* (scope: Scope) {
        yield* sql`SELECT pg_advisory_xact_lock(hashtext('scopeline.recalculations'))`
        yield* sql`
          SELECT count(*) FROM (
            SELECT a.id FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id
            WHERE ${toMove(scope)} FOR UPDATE OF a) locked`
      }),

      /** The distinct unit pairs of the activities to move whose row exists in the target set. */
      unitPairs: Effect.fn("RecalculationsRepo.unitPairs")(function* (scope: Scope) {
        return yield* sql<UnitPair>`
          SELECT coalesce(a.raw_unit, '') AS raw_unit, f.unit AS from_unit, t.unit AS to_unit
          FROM activities a
          JOIN emission_factors f ON f.id = a.matched_factor_id
          JOIN emission_factors t ON t.source = f.source AND t.source_id = f.source_id AND t.year = ${scope.year}
          WHERE ${toMove(scope)}
          GROUP BY 1, 2, 3`
      }),

      /**
       * The plan, one row per activity to move: its factor's row in the target set (same source and
       * source id), and the restated emissions and gas parts priced exactly as the match job prices
       * (quantity × ratio × factor in NUMERIC, the ratio from the unit registry), or the reason it stays.
       */
      plan: Effect.fn("RecalculationsRepo.plan")(function* (scope: Scope, pairs: ReadonlyArray<PairPlan>) {
        const col = <A>(f: (pair: PairPlan) => A) => pairs.map(f)
        const priced = (part: "factor_value" | "co2_factor" | "ch4_factor" | "n2o_factor") =>
          sql`a.raw_volume * v.ratio_num * ${sql.literal(`t.${part}`)} / v.ratio_den`
        yield* sql`DROP TABLE IF EXISTS pg_temp.recalculation_plan`
        yield* sql`
          CREATE TEMP TABLE recalculation_plan (
            activity_id UUID PRIMARY KEY, from_kg NUMERIC, from_factor_id UUID NOT NULL, source_id TEXT NOT NULL,
            from_unit TEXT NOT NULL, raw_unit TEXT NOT NULL, to_factor_id UUID, to_unit TEXT, to_scope SMALLINT,
            to_category SMALLINT, to_kg NUMERIC, to_co2 NUMERIC, to_ch4 NUMERIC, to_n2o NUMERIC, reason TEXT
          ) ON COMMIT DROP`
        const [row] = yield* sql<{ n: number }>`
          WITH v AS (
            SELECT * FROM unnest(${col((p) => p.rawUnit)}::text[], ${col((p) => p.fromUnit)}::text[], ${col((p) => p.toUnit)}::text[],
              ${col((p) => ("reason" in p ? null : p.ratioNum))}::numeric[], ${col((p) => ("reason" in p ? null : p.ratioDen))}::numeric[],
              ${col((p) => ("reason" in p ? p.reason : null))}::text[])
            AS v(raw_unit, from_unit, to_unit, ratio_num, ratio_den, reason)),
          p AS (
            SELECT a.id AS activity_id, a.emissions AS from_kg, f.id AS from_factor_id, f.source_id, f.unit AS from_unit,
                   coalesce(a.raw_unit, '') AS raw_unit, t.id AS to_factor_id, t.unit AS to_unit,
                   t.ghg_scope AS to_scope, t.scope3_category AS to_category, v.reason AS unit_reason,
                   ${priced("factor_value")} AS to_kg, ${priced("co2_factor")} AS to_co2,
                   ${priced("ch4_factor")} AS to_ch4, ${priced("n2o_factor")} AS to_n2o
            FROM activities a
            JOIN emission_factors f ON f.id = a.matched_factor_id
            LEFT JOIN emission_factors t ON t.source = f.source AND t.source_id = f.source_id AND t.year = ${scope.year}
            LEFT JOIN v ON v.raw_unit = coalesce(a.raw_unit, '') AND v.from_unit = f.unit AND v.to_unit = t.unit
            WHERE ${toMove(scope)}),
          planned AS (
            INSERT INTO recalculation_plan
            SELECT activity_id, from_kg, from_factor_id, source_id, from_unit, raw_unit, to_factor_id, to_unit, to_scope, to_category,
                   to_kg, to_co2, to_ch4, to_n2o,
                   CASE WHEN to_factor_id IS NULL THEN 'not_in_set'
                        WHEN unit_reason IS NOT NULL THEN unit_reason
                        WHEN to_kg IS NULL THEN 'unit_unknown'
                        WHEN abs(to_kg) > ${MAX_ACTIVITY_EMISSIONS_KG}::numeric THEN 'too_large' END
            FROM p
            RETURNING 1)
          SELECT count(*)::int AS n FROM planned`
        // The planner knows nothing of a fresh temporary table; the joins below read it whole.
        yield* sql`ANALYZE recalculation_plan`
        return row?.n ?? 0
      }),

      counts: Effect.fn("RecalculationsRepo.counts")(function* (scope: Scope) {
        const [row] = yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: CountsRow,
          execute: () => sql`
            SELECT count(*)::int AS calculated,
                   count(*) FILTER (WHERE f.source = ${scope.source})::int AS in_scope,
                   count(*) FILTER (WHERE f.source = ${scope.source} AND f.year = ${scope.year})::int AS already_on_set,
                   count(*) FILTER (WHERE f.source <> ${scope.source})::int AS other_sources,
                   count(*) FILTER (WHERE ${mapped})::int AS changed,
                   count(*) FILTER (WHERE ${mapped} AND p.to_kg IS DISTINCT FROM p.from_kg)::int AS emissions_changed,
                   count(*) FILTER (WHERE p.reason = 'not_in_set')::int AS not_in_set,
                   count(*) FILTER (WHERE p.reason = 'unit_changed')::int AS unit_changed,
                   count(*) FILTER (WHERE p.reason = 'unit_unknown')::int AS unit_unknown,
                   count(*) FILTER (WHERE p.reason = 'too_large')::int AS too_large
            FROM activities a
            JOIN emission_factors f ON f.id = a.matched_factor_id
            LEFT JOIN recalculation_plan p ON p.activity_id = a.id
            WHERE ${inScope(scope)}`,
        })(undefined).pipe(Effect.orDie)
        return row!
      }),

      /**
       * Totals before and after, overall, by scope and by scope 3 category, summed in NUMERIC (exact):
       * each activity counts once before (its factor now) and once after (the target row if it moves).
       */
      totals: Effect.fn("RecalculationsRepo.totals")(function* (scope: Scope) {
        return yield* SqlSchema.findAll({
          Request: Schema.Void,
          Result: TotalsRow,
          execute: () => sql`
            WITH s AS (
              SELECT a.emissions AS before_kg, f.ghg_scope AS before_scope, f.scope3_category AS before_category,
                     CASE WHEN ${mapped} THEN p.to_kg ELSE a.emissions END AS after_kg,
                     CASE WHEN ${mapped} THEN p.to_scope ELSE f.ghg_scope END AS after_scope,
                     CASE WHEN ${mapped} THEN p.to_category ELSE f.scope3_category END AS after_category
              FROM activities a
              JOIN emission_factors f ON f.id = a.matched_factor_id
              LEFT JOIN recalculation_plan p ON p.activity_id = a.id
              WHERE ${inScope(scope)}),
            sides AS (
              SELECT before_scope AS scope, before_category AS category, before_kg, 0::numeric AS after_kg FROM s
              UNION ALL
              SELECT after_scope, after_category, 0::numeric, after_kg FROM s)
            SELECT scope, category, GROUPING(scope)::int AS no_scope, GROUPING(category)::int AS no_category,
                   trim_scale(coalesce(sum(before_kg), 0))::text AS before_kg, trim_scale(coalesce(sum(after_kg), 0))::text AS after_kg,
                   trim_scale(coalesce(sum(after_kg), 0) - coalesce(sum(before_kg), 0))::text AS change_kg
            FROM sides
            GROUP BY GROUPING SETS ((), (scope), (category))`,
        })(undefined).pipe(Effect.orDie)
      }),

      /** Lists the activities that stay, with a reason a person can act on. */
      recordUnmapped: Effect.fn("RecalculationsRepo.recordUnmapped")(function* (scope: Scope, factorSet: string) {
        yield* sql`DELETE FROM recalculation_unmapped WHERE recalculation_id = ${scope.id}::uuid`
        yield* sql`
          INSERT INTO recalculation_unmapped (recalculation_id, activity_id, factor_id, reason, message)
          SELECT ${scope.id}::uuid, activity_id, from_factor_id, reason,
            CASE reason
              WHEN 'not_in_set' THEN format('%s has no row %s: the publication dropped or renumbered it.', ${factorSet}::text, source_id)
              WHEN 'unit_changed' THEN format('In %s the row is per %s, not per %s as before: the quantity cannot be priced on it as it was.',
                                              ${factorSet}::text, to_unit, from_unit)
              WHEN 'unit_unknown' THEN format('The quantity in %s cannot be converted to the row''s unit, %s.', raw_unit, to_unit)
              ELSE format('The restated emissions would exceed %s, the most one activity may have.', ${EMISSIONS_LIMIT_TEXT}::text)
            END
          FROM recalculation_plan WHERE reason IS NOT NULL`
      }),

      /** Moves the mapped activities to the target set and appends their history, in one statement each. */
      apply: Effect.fn("RecalculationsRepo.apply")(function* (scope: Scope, changedBy: string | null, note: string) {
        const [updated] = yield* sql<{ n: number }>`
          WITH moved AS (
            UPDATE activities a
            SET matched_factor_id = p.to_factor_id, emissions = p.to_kg, emissions_co2 = p.to_co2, emissions_ch4 = p.to_ch4,
                emissions_n2o = p.to_n2o, updated_at = now()
            FROM recalculation_plan p
            WHERE a.id = p.activity_id AND p.reason IS NULL AND a.status = 'calculated'
            RETURNING 1)
          SELECT count(*)::int AS n FROM moved`
        const [history] = yield* sql<{ n: number }>`
          WITH written AS (
            INSERT INTO activity_history (activity_id, changed_by, source, from_factor_id, to_factor_id, from_kg_co2e, to_kg_co2e, note, recalculation_id)
            SELECT activity_id, ${changedBy}::uuid, 'recalculation', from_factor_id, to_factor_id, from_kg, to_kg, ${note}, ${scope.id}::uuid
            FROM recalculation_plan WHERE reason IS NULL
            RETURNING 1)
          SELECT count(*)::int AS n FROM written`
        return { updated: updated?.n ?? 0, history: history?.n ?? 0 }
      }),

      /** Marks the run done with its restatement; fails with LeaseLost (rolling back) if the claim is no longer ours. */
      finish: Effect.fn("RecalculationsRepo.finish")(function* (id: string, lease: string, result: Restatement) {
        const rows = yield* sql`
          UPDATE recalculations SET status = 'done', phase = 'done', result = ${JSON.stringify(result)}::jsonb, error = NULL,
            finished_at = now(), lease = NULL, lease_until = NULL
          WHERE id = ${id}::uuid AND lease = ${lease}::uuid AND status = 'running'
          RETURNING id`
        if (rows.length === 0) return yield* new LeaseLost({ id })
      }),
    }
  }),
}) {}
