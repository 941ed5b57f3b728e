import { SqlClient, SqlSchema } from "@effect/sql"
import { retryDeadlocks } from "@scopeline/sql/Deadlocks"
import {
  CatalogueFactor,
  EmissionFactor,
  EmissionFactorId,
  FactorSet,
  UnitDimension,
} from "./EmissionFactor.ts"
import { Array as Arr, Effect, Option, Schema } from "effect"
import { parseUnit } from "./units/Units.ts"

export class FactorSearch extends Schema.Class<FactorSearch>("FactorSearch")({
  /** Free text, websearch syntax ("diesel -wtt", "\"long-haul\" business"). */
  q: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  /** The factor's unit as published, case-insensitive ("litres", "kWh (Gross CV)"). */
  unit: Schema.optional(Schema.String),
  dimension: Schema.optional(UnitDimension),
  geography: Schema.optional(Schema.String),
  source: Schema.optional(Schema.String),
  /** One set ("DESNZ:2023"), current or not; without it, only current factors are searched. */
  factorSet: Schema.optional(Schema.String),
  offset: Schema.optionalWith(Schema.NonNegativeInt, { default: () => 0 }),
  limit: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 500)), { default: () => 50 }),
}) {}

export interface FactorPage {
  readonly rows: ReadonlyArray<EmissionFactor>
  readonly total: number
}

export interface UpsertCounts {
  readonly inserted: number
  readonly updated: number
  readonly unchanged: number
}

const columns = `id, ref, source, source_id, year, name, activity_type, category_path, scope, unit, dimension,
  factor_value::text AS factor_value, factor_unit, ghg_unit, geography, is_primary, licence, attribution,
  publication, source_file, co2_factor::text AS co2_factor, ch4_factor::text AS ch4_factor,
  n2o_factor::text AS n2o_factor, gwp_set, ghg_scope, scope3_category, factor_set, created_at, updated_at`

/**
 * A factor is current while no newer edition of its source replaces it: a newer row for the same
 * source row, or a newer year of the source published in another file (a new DESNZ year replaces the
 * whole of the old one, rows it dropped included). Ember's one file holds each country's latest year,
 * so its rows of 2022, 2023 and 2024 are all current together. `alias` names emission_factors.
 * The replaced editions are found once per query over the few (source, year, file) groups (a hashed
 * subplan), the newer rows by the (source, source_id, year) key: a correlated test of both on every row
 * took a second per search page.
 */
export const currentFactor = (alias: string) => `(${alias}.source, ${alias}.year, coalesce(${alias}.source_file, '')) NOT IN (
    SELECT edition.source, edition.year, edition.file
    FROM (SELECT DISTINCT source, year, coalesce(source_file, '') AS file FROM emission_factors) edition
    WHERE EXISTS (
      SELECT 1 FROM emission_factors later
      WHERE later.source = edition.source AND later.year > edition.year AND coalesce(later.source_file, '') <> edition.file))
  AND NOT EXISTS (
    SELECT 1 FROM emission_factors newer
    WHERE newer.source = ${alias}.source AND newer.source_id = ${alias}.source_id AND newer.year > ${alias}.year)`

const SearchRow = Schema.Struct({ ...EmissionFactor.fields, total: Schema.NumberFromString })
const SetRow = Schema.Struct({ ...FactorSet.fields, sourceFiles: Schema.Array(Schema.String) })
const OtherFileRow = Schema.Struct({ factorSet: Schema.String, sourceFile: Schema.String })
const UpsertRow = Schema.Struct({ inserted: Schema.Boolean })

// Rows per statement: one JSON parameter each, bounded so a larger catalogue never builds one
// enormous parameter.
const UPSERT_BATCH = 1000

/** The columns of the JSON records `upsertMany` sends, in snake case as the recordset reads them. */
const toRecord = (f: typeof CatalogueFactor.Encoded) => ({
  name: f.name,
  activity_type: f.activityType,
  unit: f.unit,
  factor_value: f.factorValue,
  factor_unit: f.factorUnit,
  source: f.source,
  source_id: f.sourceId,
  year: f.year,
  geography: f.geography,
  category_path: f.categoryPath,
  scope: f.scope,
  licence: f.licence,
  attribution: f.attribution,
  publication: f.publication,
  source_file: f.sourceFile,
  ghg_unit: f.ghgUnit,
  is_primary: f.isPrimary,
  dimension: f.dimension,
  co2_factor: f.co2Factor ?? null,
  ch4_factor: f.ch4Factor ?? null,
  n2o_factor: f.n2oFactor ?? null,
  gwp_set: f.gwpSet ?? null,
  scope3_category: f.scope3Category ?? null,
})

/** "1", "scope1", " Scope 1 " are the published "Scope 1"; anything else is compared as it is. */
const scopeAsPublished = (scope: string): string => {
  const number = /^\s*(?:scope\s*)?([123])\s*$/i.exec(scope)?.[1]
  return number === undefined ? scope.trim() : `Scope ${number}`
}

/** Every spelling of the unit the registry knows ("L" finds factors per "litres"), lower case. */
const unitSpellings = (unit: string): ReadonlyArray<string> =>
  Option.match(parseUnit(unit.trim()), {
    onNone: () => [unit.trim().toLowerCase()],
    onSome: (known) => [...new Set([known.symbol, ...known.aliases].map((spelling) => spelling.toLowerCase()))],
  })

export class FactorsRepo extends Effect.Service<FactorsRepo>()("scopeline/FactorsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    // Set-based and repeatable: one statement per batch; a row whose published values did not
    // change is left alone (same id, same updated_at), so loading twice is a no-op.
    const upsertBatch = SqlSchema.findAll({
      Request: Schema.Array(CatalogueFactor),
      Result: UpsertRow,
      execute: (factors) => sql`
        INSERT INTO emission_factors (name, activity_type, unit, factor_value, factor_unit, source, source_id, year,
          geography, category_path, scope, licence, attribution, publication, source_file, ghg_unit, is_primary, dimension,
          co2_factor, ch4_factor, n2o_factor, gwp_set, scope3_category)
        SELECT r.name, r.activity_type, r.unit, r.factor_value::numeric, r.factor_unit, r.source, r.source_id, r.year,
          r.geography, coalesce(r.category_path, '{}'), r.scope, r.licence, r.attribution, r.publication, r.source_file,
          r.ghg_unit, r.is_primary, r.dimension, r.co2_factor::numeric, r.ch4_factor::numeric, r.n2o_factor::numeric,
          r.gwp_set, r.scope3_category
        FROM jsonb_to_recordset(${JSON.stringify(factors.map(toRecord))}::jsonb) AS r(
          name TEXT, activity_type TEXT, unit TEXT, factor_value TEXT, factor_unit TEXT, source TEXT, source_id TEXT,
          year INTEGER, geography TEXT, category_path TEXT[], scope TEXT, licence TEXT, attribution TEXT,
          publication TEXT, source_file TEXT, ghg_unit TEXT, is_primary BOOLEAN, dimension TEXT, co2_factor TEXT,
          ch4_factor TEXT, n2o_factor TEXT, gwp_set TEXT, scope3_category SMALLINT)
        ON CONFLICT (source, source_id, year) DO UPDATE SET
          name = EXCLUDED.name, activity_type = EXCLUDED.activity_type, unit = EXCLUDED.unit,
          factor_value = EXCLUDED.factor_value, factor_unit = EXCLUDED.factor_unit, geography = EXCLUDED.geography,
          category_path = EXCLUDED.category_path, scope = EXCLUDED.scope, licence = EXCLUDED.licence,
          attribution = EXCLUDED.attribution, publication = EXCLUDED.publication, source_file = EXCLUDED.source_file,
          ghg_unit = EXCLUDED.ghg_unit, is_primary = EXCLUDED.is_primary, dimension = EXCLUDED.dimension,
          co2_factor = EXCLUDED.co2_factor, ch4_factor = EXCLUDED.ch4_factor, n2o_factor = EXCLUDED.n2o_factor,
          gwp_set = EXCLUDED.gwp_set, scope3_category = EXCLUDED.scope3_category, updated_at = now()
        WHERE (emission_factors.name, emission_factors.activity_type, emission_factors.unit, emission_factors.factor_value,
               emission_factors.factor_unit, emission_factors.geography, emission_factors.category_path,
               emission_factors.scope, emission_factors.licence, emission_factors.attribution,
               emission_factors.publication, emission_factors.source_file, emission_factors.ghg_unit,
               emission_factors.is_primary, emission_factors.dimension, emission_factors.co2_factor,
               emission_factors.ch4_factor, emission_factors.n2o_factor, emission_factors.gwp_set,
               emission_factors.scope3_category)
          IS DISTINCT FROM
              (EXCLUDED.name, EXCLUDED.activity_type, EXCLUDED.unit, EXCLUDED.factor_value, EXCLUDED.factor_unit,
               EXCLUDED.geography, EXCLUDED.category_path, EXCLUDED.scope, EXCLUDED.licence, EXCLUDED.attribution,
               EXCLUDED.publication, EXCLUDED.source_file, EXCLUDED.ghg_unit, EXCLUDED.is_primary, EXCLUDED.dimension,
               EXCLUDED.co2_factor, EXCLUDED.ch4_factor, EXCLUDED.n2o_factor, EXCLUDED.gwp_set, EXCLUDED.scope3_category)
        RETURNING (xmax = 0) AS inserted`,
    })

    const search = SqlSchema.findAll({
      Request: FactorSearch,
      Result: SearchRow,
      execute: (s) => {
        const query = s.q?.trim() ? sql`websearch_to_tsquery('english', ${s.q.trim()})` : undefined
        const filters = [
          ...(query ? [sql`search_document @@ ${query}`] : []),
          ...(s.scope ? [sql`lower(scope) = lower(${scopeAsPublished(s.scope)})`] : []),
          ...(s.unit ? [sql`lower(unit) = ANY(${unitSpellings(s.unit)}::text[])`] : []),
          ...(s.dimension ? [sql`dimension = ${s.dimension}`] : []),
          ...(s.geography ? [sql`upper(geography) = upper(${s.geography})`] : []),
          ...(s.source ? [sql`lower(source) = lower(${s.source})`] : []),
          s.factorSet ? sql`factor_set = ${s.factorSet}` : sql.literal(currentFactor("emission_factors")),
        ]
        const order = query ? sql`ts_rank(search_document, ${query}) DESC, name, ref` : sql`name, ref`
        return sql`
          SELECT ${sql.literal(columns)}, count(*) OVER () AS total
          FROM emission_factors
          WHERE ${sql.and(filters)}
          ORDER BY ${order}
          OFFSET ${s.offset ?? 0} LIMIT ${s.limit ?? 50}`
      },
    })

    const byId = SqlSchema.findOne({
      Request: EmissionFactorId,
      Result: EmissionFactor,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM emission_factors WHERE id = ${id}`,
    })

    const byRef = SqlSchema.findOne({
      Request: Schema.String,
      Result: EmissionFactor,
      execute: (ref) => sql`SELECT ${sql.literal(columns)} FROM emission_factors WHERE ref = ${ref}`,
    })

    const byRefs = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: EmissionFactor,
      execute: (refs) => sql`SELECT ${sql.literal(columns)} FROM emission_factors WHERE ref = ANY(${refs}::text[])`,
    })

    const sets = SqlSchema.findAll({
      Request: Schema.Void,
      Result: SetRow,
      execute: () => sql`
        SELECT f.factor_set AS id, f.source, f.year, min(f.publication) AS publication, min(f.licence) AS licence,
               min(f.attribution) AS attribution,
               array_remove(array_agg(DISTINCT f.source_file ORDER BY f.source_file), NULL) AS source_files,
               count(*)::int AS factor_count, bool_or(${sql.literal(currentFactor("f"))}) AS current,
               min(f.created_at) AS loaded_at
        FROM emission_factors f
        GROUP BY f.factor_set, f.source, f.year
        ORDER BY f.source, f.year DESC`,
    })

    // Rows of these sets that came from another file than `file`: a set is loaded from one file.
    const otherFiles = SqlSchema.findAll({
      Request: Schema.Struct({ sets: Schema.Array(Schema.String), file: Schema.String }),
      Result: OtherFileRow,
      execute: ({ sets, file }) => sql`
        SELECT DISTINCT factor_set, source_file FROM emission_factors
        WHERE factor_set = ANY(${sets}::text[]) AND source_file IS DISTINCT FROM ${file}`,
    })

    return {
      /** Every factor set the catalogue holds, by source then newest year first. */
      sets: Effect.fn("FactorsRepo.sets")(function* () {
        return (yield* sets(undefined).pipe(Effect.orDie)).map((row) => FactorSet.make(row))
      }),
      /** The set with this id ("DESNZ:2023"), if the catalogue holds it. */
      findSet: Effect.fn("FactorsRepo.findSet")(function* (id: string) {
        const all = (yield* sets(undefined).pipe(Effect.orDie)).map((row) => FactorSet.make(row))
        return Arr.findFirst(all, (set) => set.id === id)
      }),
      /** The sets among `sets` that already hold rows from a file other than `file`, with that file. */
      setsFromOtherFiles: Effect.fn("FactorsRepo.setsFromOtherFiles")(function* (sets: ReadonlyArray<string>, file: string) {
        return sets.length === 0 ? [] : yield* otherFiles({ sets, file }).pipe(Effect.orDie)
      }),
      upsertMany: Effect.fn("FactorsRepo.upsertMany")(function* (factors: ReadonlyArray<CatalogueFactor>) {
        // A corrected scope or category moves the activities priced with it between the inventory's
        // cells (migration 0052), which a match job may be writing too: a deadlock is retried whole.
        const results = yield* Effect.forEach(Arr.chunksOf(factors, UPSERT_BATCH), (batch) => upsertBatch(batch)).pipe(
          sql.withTransaction,
          retryDeadlocks,
          Effect.orDie,
        )
        const touched = results.flat()
        const inserted = touched.filter((row) => row.inserted).length
        return {
          inserted,
          updated: touched.length - inserted,
          unchanged: factors.length - touched.length,
        } satisfies UpsertCounts
      }),
      search: Effect.fn("FactorsRepo.search")(function* (request: FactorSearch) {
        const rows = yield* search(request).pipe(Effect.orDie)
        return {
          rows: rows.map(({ total: _total, ...row }) => EmissionFactor.make(row)),
          total: rows[0]?.total ?? 0,
        } satisfies FactorPage
      }),
      findById: Effect.fn("FactorsRepo.findById")(function* (id: EmissionFactorId) {
        return yield* byId(id).pipe(Effect.orDie)
      }),
      findByRef: Effect.fn("FactorsRepo.findByRef")(function* (ref: string) {
        return yield* byRef(ref).pipe(Effect.orDie)
      }),
      /** The factors with these refs, by ref (unknown refs are simply absent). */
      findByRefs: Effect.fn("FactorsRepo.findByRefs")(function* (refs: ReadonlyArray<string>) {
        const rows = refs.length === 0 ? [] : yield* byRefs(refs).pipe(Effect.orDie)
        return new Map<string, EmissionFactor>(rows.map((row) => [row.ref, row]))
      }),
    }
  }),
}) {}
