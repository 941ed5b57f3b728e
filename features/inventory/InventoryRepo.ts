import { SqlClient, SqlSchema } from "@effect/sql"
import { scope3CategoryAliases } from "@scopeline/catalogue"
import { Effect, Option, Schema } from "effect"
import { InventoryCell, InventoryRequest, StatusCounts } from "./Inventory.ts"

const UNCATEGORISED = "Uncategorised"

const LatestMonth = Schema.Struct({ latest: Schema.NullOr(Schema.String) })

/**
 * The inventory's sums, read straight from the activities in one scan with GROUPING SETS: exact
 * NUMERIC sums as text, rounded only when the report is built. A scope 3 activity's category is its
 * factor's, unless the activity's own `category` text names a GHG Protocol category
 * (ghgCategories.ts), joined here set-based against every accepted alias.
 */
export class InventoryRepo extends Effect.Service<InventoryRepo>()("scopeline/InventoryRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const aliases = scope3CategoryAliases()
    const aliasTexts = aliases.map(([alias]) => alias)
    const aliasCategories = aliases.map(([, category]) => category)

    const filters = (request: typeof InventoryRequest.Encoded) => [
      ...(request.from === null ? [] : [sql`a.activity_date >= ${request.from}::date`]),
      ...(request.to === null ? [] : [sql`a.activity_date <= ${request.to}::date`]),
      ...(request.uploadId === null ? [] : [sql`a.upload_id = ${request.uploadId}`]),
      // Site codes are unique whatever their case (migration 0030), and matched so.
      ...(request.site === null ? [] : [sql`a.site_id IN (SELECT id FROM sites WHERE lower(code) = lower(${request.site}))`]),
    ]

    const sums = SqlSchema.findAll({
      Request: InventoryRequest,
      Result: InventoryCell,
      execute: (request) => sql`
        WITH refine AS (
          SELECT DISTINCT ON (alias) alias, category
          FROM unnest(${aliasTexts}::text[], ${aliasCategories}::int[]) AS r(alias, category)),
        priced AS (
          SELECT a.emissions, a.emissions_co2, a.emissions_ch4, a.emissions_n2o, a.emissions_other,
                 f.ghg_scope AS scope,
                 CASE WHEN f.ghg_scope = 3 THEN coalesce(r.category, f.scope3_category) END AS scope3_category,
                 coalesce(nullif(trim(a.category), ''), f.category_path[1], ${UNCATEGORISED}) AS category,
                 to_char(a.activity_date, 'YYYY-MM') AS month
          FROM activities a
          JOIN emission_factors f ON f.id = a.matched_factor_id
          LEFT JOIN refine r ON r.alias = trim(regexp_replace(lower(a.category), '[^a-z0-9]+', ' ', 'g'))
          WHERE ${sql.and([sql`a.status = 'calculated'`, sql`a.emissions IS NOT NULL`, ...filters(request)])})
        SELECT CASE WHEN GROUPING(scope, scope3_category, category, month) = 15 THEN 'total'
                    WHEN GROUPING(month) = 0 THEN 'month'
                    WHEN GROUPING(scope3_category) = 0 THEN 'scope3'
                    WHEN GROUPING(scope) = 0 THEN 'scope'
                    ELSE 'category' END AS grouping,
               scope, scope3_category, category, month,
               coalesce(sum(emissions), 0)::text AS kg_co2e,
               coalesce(sum(emissions_co2), 0)::text AS co2,
               coalesce(sum(emissions_ch4), 0)::text AS ch4,
               coalesce(sum(emissions_n2o), 0)::text AS n2o,
               coalesce(sum(emissions_other), 0)::text AS other,
               count(*)::int AS activities
        FROM priced
        GROUP BY GROUPING SETS ((), (scope), (scope, scope3_category), (category), (month, scope))`,
    })

    const counts = SqlSchema.single({
      Request: InventoryRequest,
      Result: StatusCounts,
      execute: (request) => sql`
        SELECT count(*)::int AS activities,
               count(*) FILTER (WHERE a.status = 'calculated')::int AS calculated,
               count(*) FILTER (WHERE a.status = 'failed')::int AS failed,
               count(*) FILTER (WHERE a.status IN ('ingested', 'matching'))::int AS pending,
               count(*) FILTER (WHERE a.status = 'calculated' AND a.review_status = 'needs_review')::int AS needs_review
        FROM activities a
        WHERE ${sql.and(filters(request))}`,
    })

    const latestMonth = SqlSchema.single({
      Request: Schema.Void,
      Result: LatestMonth,
      execute: () => sql`
        SELECT to_char(max(activity_date), 'YYYY-MM-DD') AS latest FROM activities WHERE status = 'calculated'`,
    })

    return {
      sums: Effect.fn("InventoryRepo.sums")(function* (request: InventoryRequest) {
        return yield* sums(request).pipe(Effect.orDie)
      }),
      counts: Effect.fn("InventoryRepo.counts")(function* (request: InventoryRequest) {
        return yield* counts(request).pipe(Effect.orDie)
      }),
      /** The date of the latest calculated activity: where the dashboard's default period ends. */
      latestDate: Effect.fn("InventoryRepo.latestDate")(function* () {
        const row = yield* latestMonth(undefined).pipe(Effect.orDie)
        return Option.fromNullable(row.latest)
      }),
    }
  }),
}) {}
