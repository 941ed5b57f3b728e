import { guard } from "@scopeline/accounts"
import { FactorNotFound } from "../errors.ts"
import { FactorSearch, FactorsRepo } from "../FactorsRepo.ts"
import { type EmissionFactor, EmissionFactorId, type FactorSet, FactorSetId } from "../EmissionFactor.ts"
import { Effect, Option, Schema } from "effect"
import { Elysia } from "elysia"
import { decodeInput, QueryInt, queryParams } from "@scopeline/ui/decode"
import { json, type Responder } from "@scopeline/ui/respond"
import { documented } from "@scopeline/ui/RouteDoc"
import type { CatalogueServices } from "./services.ts"

const Text = Schema.String.pipe(Schema.maxLength(200))

/** FactorsRepo caps a page at 500 rows; the API says so up front instead of failing in the query. */
export const MAX_FACTOR_PAGE = 500

export const FactorSearchParams = Schema.Struct({
  q: Schema.optional(Text),
  scope: Schema.optional(Text),
  unit: Schema.optional(Text),
  geography: Schema.optional(Text),
  factor_set: Schema.optional(FactorSetId).annotations({ description: "one factor set (`DESNZ:2023`); without it, only current factors" }),
  offset: Schema.optionalWith(QueryInt.pipe(Schema.nonNegative()), { default: () => 0 }),
  limit: Schema.optionalWith(
    QueryInt.pipe(Schema.between(1, MAX_FACTOR_PAGE, { message: () => `must be between 1 and ${MAX_FACTOR_PAGE}` })),
    { default: () => 25 },
  ),
})
export type FactorSearchParams = typeof FactorSearchParams.Type

export const factorSearch = (params: FactorSearchParams) =>
  FactorSearch.make({
    q: params.q,
    scope: params.scope,
    unit: params.unit,
    geography: params.geography,
    factorSet: params.factor_set,
    offset: params.offset,
    limit: params.limit,
  })

/**
 * A factor with everything an auditor needs to find it in its publication. `factor.value` stays a
 * decimal string: it is the published digits, which a float could not always reproduce.
 */
export const factorJson = (factor: EmissionFactor) => ({
  id: factor.id,
  url: `/v1/emission-factors/${factor.id}`,
  ref: factor.ref,
  name: factor.name,
  activity_type: factor.activityType,
  category_path: factor.categoryPath,
  scope: factor.scope,
  unit: factor.unit,
  dimension: factor.dimension,
  factor: { value: factor.factorValue, unit: factor.factorUnit, ghg_unit: factor.ghgUnit },
  geography: factor.geography,
  is_primary: factor.isPrimary,
  provenance: {
    source: factor.source,
    publication: factor.publication,
    year: factor.year,
    geography: factor.geography,
    licence: factor.licence,
    attribution: factor.attribution,
    source_id: factor.sourceId,
    source_file: factor.sourceFile,
    ref: factor.ref,
    factor_set: factor.factorSet,
  },
  updated_at: factor.updatedAt.toISOString(),
})

/** The factor with this id, or NotFound (also for a malformed id, which cannot name a factor). */
export const findFactor = (id: string) =>
  Effect.gen(function* () {
    const notFound = new FactorNotFound({ message: "There is no emission factor with this id." })
    const factorId = yield* Schema.decodeUnknown(EmissionFactorId)(id).pipe(Effect.mapError(() => notFound))
    const found = yield* (yield* FactorsRepo).findById(factorId)
    return yield* Option.match(found, { onNone: () => Effect.fail(notFound), onSome: Effect.succeed })
  })

const Nullable = Schema.NullOr

/** A factor as the API shows it (`factorJson`). */
export const FactorJson = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  ref: Schema.String,
  name: Schema.String,
  activity_type: Schema.String,
  category_path: Schema.Array(Schema.String),
  scope: Nullable(Schema.String),
  unit: Schema.String,
  dimension: Schema.String,
  factor: Schema.Struct({
    value: Schema.String.annotations({ description: "the published digits, as a decimal string" }),
    unit: Schema.String,
    ghg_unit: Schema.String,
  }),
  geography: Schema.String,
  is_primary: Schema.Boolean,
  provenance: Schema.Struct({
    source: Schema.String,
    publication: Schema.String,
    year: Schema.Number,
    geography: Schema.String,
    licence: Schema.String,
    attribution: Schema.String,
    source_id: Schema.String,
    source_file: Schema.String,
    ref: Schema.String,
    factor_set: Schema.String.annotations({ description: "the set (source:year) the factor belongs to" }),
  }),
  updated_at: Schema.String,
}).annotations({ identifier: "EmissionFactor" })

/** A factor set as the API shows it. */
export const factorSetJson = (set: FactorSet) => ({
  id: set.id,
  source: set.source,
  year: set.year,
  publication: set.publication,
  licence: set.licence,
  attribution: set.attribution,
  source_files: set.sourceFiles,
  factor_count: set.factorCount,
  current: set.current,
  loaded_at: set.loadedAt.toISOString(),
})

export const FactorSetJson = Schema.Struct({
  id: Schema.String.annotations({ description: "`SOURCE:YEAR`, e.g. `DESNZ:2023`" }),
  source: Schema.String,
  year: Schema.Number,
  publication: Nullable(Schema.String),
  licence: Nullable(Schema.String),
  attribution: Nullable(Schema.String),
  source_files: Schema.Array(Schema.String),
  factor_count: Schema.Number,
  current: Schema.Boolean.annotations({ description: "no newer edition of the source replaces it; search shows current sets by default" }),
  loaded_at: Schema.String,
}).annotations({ identifier: "FactorSet" })

/** The OpenAPI entries of the routes below, one per route, attached to it as its `detail`. */
export const catalogueApiDocs = {
  search: documented({
    summary: "Search the emission factor catalogue",
    description:
      "Searches the current factor sets (no newer edition of their source replaces them), so a second DESNZ year never doubles the answers; " +
      "`factor_set=DESNZ:2023` searches that one set instead, current or not.",
    tag: "catalogue",
    access: "view",
    query: FactorSearchParams,
    responses: {
      200: {
        description: "One page of matching factors.",
        schema: Schema.Struct({ offset: Schema.Number, limit: Schema.Number, total: Schema.Number, emission_factors: Schema.Array(FactorJson) }),
      },
    },
  }),
  sets: documented({
    summary: "The factor sets of the catalogue: each source's publication years, side by side",
    description:
      "A set is one source and year (`DESNZ:2023`); every factor belongs to exactly one. Loading another year's file adds a set " +
      "beside the old ones (docs/recalculation.md); a recalculation restates activities on another set.",
    tag: "catalogue",
    access: "view",
    responses: { 200: { description: "Every set, by source and newest year first.", schema: Schema.Struct({ factor_sets: Schema.Array(FactorSetJson) }) } },
  }),
  get: documented({
    summary: "One emission factor, with its provenance",
    tag: "catalogue",
    access: "view",
    params: Schema.Struct({ id: Schema.String }),
    responses: { 200: { description: "The factor.", schema: FactorJson } },
    errors: [404],
  }),
}

/** GET /v1/emission-factors (search) and GET /v1/emission-factors/:id. */
export const catalogueApi = (respond: Responder<CatalogueServices>) =>
  new Elysia({ name: "api.catalogue", prefix: "/v1/emission-factors" })
    .get("/", ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          const params = yield* decodeInput(FactorSearchParams, "query")(queryParams(request))
          const page = yield* (yield* FactorsRepo).search(factorSearch(params))
          return json({
            offset: params.offset,
            limit: params.limit,
            total: page.total,
            emission_factors: page.rows.map(factorJson),
          })
        }),
      ),
      { detail: catalogueApiDocs.search },
    )
    .get("/:id", ({ request, params }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          const principal = yield* guard(request, "view")
          return json(factorJson(yield* findFactor(params.id)))
        }),
      ),
      { detail: catalogueApiDocs.get },
    )

/** GET /v1/factor-sets. */
export const factorSetsApi = (respond: Responder<CatalogueServices>) =>
  new Elysia({ name: "api.factor-sets", prefix: "/v1/factor-sets" }).get(
    "/",
    ({ request }) =>
      respond.api(
        request,
        Effect.gen(function* () {
          yield* guard(request, "view")
          const sets = yield* (yield* FactorsRepo).sets()
          return json({ factor_sets: sets.map(factorSetJson) })
        }),
      ),
    { detail: catalogueApiDocs.sets },
  )
