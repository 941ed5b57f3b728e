import { SqlClient, SqlSchema } from "@effect/sql"
import { scope3CategoryAliases } from "@scopeline/catalogue"
import { Effect, Option, Schema } from "effect"
import { InventoryCell, InventoryRequest, StatusCounts } from "./Inventory.ts"

const UNCATEGORISED = "Uncategorised"

const LatestMonth = Schema.Struct({ latest: Schema.NullOr(Schema.String) })

/**
 * The inventory's sums, read from the cells of `inventory_totals` (migration 0052: kept by the
 * database in the same statement as every change of an activity) with GROUPING SETS, so a report
 * costs the same at ten thousand activities as at ten million: exact NUMERIC sums as text, rounded
 * only when the report is built. A scope 3 cell's category is its factor's, unless the activities'
 * own `category` text names a GHG Protocol category (ghgCategories.ts), joined here set-based
 * against every accepted alias.
 */
export class InventoryRepo extends Effect.Service<InventoryRepo>()("scopeline/InventoryRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const aliases = scope3CategoryAliases()
    const aliasTexts = aliases.map(([alias]) => alias)
    const aliasCategories = aliases.map(([, category]) => category)

    const filters = (request: typeof InventoryRequest.Encoded) => [
      ...(request.from === null ? [] : [sql`t.activity_date >= ${request.from}::date`]),
      ...(request.to === null ? [] : [sql`t.activity_date <= ${request.to}::date`]),
      ...(request.uploadId === null ? [] : [sql`t.upload_id = ${request.uploadId}`]),
      // Site codes are unique whatever their case (migration 0030), and matched so.
      ...(request.site === null ? [] : [sql`t.site_id IN (SELECT id FROM sites WHERE lower(code) = lower(${request.site}))`]),
    ]

    const sums = SqlSchema.findAll({
      Request: InventoryRequest,
      Result: InventoryCell,
      execute: (request) => sql`
        WITH refine AS (
          SELECT DISTINCT ON (alias) alias, category
          FROM unnest(${aliasTexts}::text[], ${aliasCategories}::int[]) AS r(alias, category)),
        priced AS (
          SELECT t.priced, t.emissions, t.emissions_co2, t.emissions_ch4, t.emissions_n2o, t.emissions_other,
                 t.factor_scope AS scope,
                 CASE WHEN t.factor_scope = 3 THEN coalesce(r.category, t.factor_scope3_category) END AS scope3_category,
                 coalesce(t.activity_category, t.factor_category, ${UNCATEGORISED}) AS category,
                 to_char(t.activity_date, 'YYYY-MM') AS month
          FROM inventory_totals t
          LEFT JOIN refine r ON r.alias = trim(regexp_replace(lower(t.activity_category), '[^a-z0-9]+', ' ', 'g'))
          WHERE ${sql.and([sql`t.status = 'calculated'`, sql`t.priced > 0`, ...filters(request)])})
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
               coalesce(sum(priced), 0)::int AS activities
        FROM priced
        GROUP BY GROUPING SETS ((), (scope), (scope, scope3_category), (category), (month, scope))`,
    })

    const counts = SqlSchema.single({
      Request: InventoryRequest,
      Result: StatusCounts,
      execute: (request) => sql`
        SELECT coalesce(sum(activities), 0)::int AS activities,
               coalesce(sum(activities) FILTER (WHERE t.status = 'calculated'), 0)::int AS calculated,
               coalesce(sum(activities) FILTER (WHERE t.status = 'failed'), 0)::int AS failed,
               coalesce(sum(activities) FILTER (WHERE t.status IN ('ingested', 'matching')), 0)::int AS pending,
               coalesce(sum(activities) FILTER (WHERE t.status = 'calculated' AND t.review_status = 'needs_review'), 0)::int AS needs_review
        FROM inventory_totals t
        WHERE ${sql.and(filters(request))}`,
    })

    const latestMonth = SqlSchema.single({
      Request: Schema.Void,
      Result: LatestMonth,
      execute: () => sql`
        SELECT to_char(max(activity_date), 'YYYY-MM-DD') AS latest FROM inventory_totals WHERE status = 'calculated'`,
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
