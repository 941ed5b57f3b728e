import { SqlClient, SqlSchema } from "@effect/sql"
import { scope3CategoryAliases } from "@scopeline/catalogue"
import { Effect, Option, Schema } from "effect"
import { InventoryCell, InventoryRequest, StatusCounts } from "./Inventory.ts"
import { type Day, splitPeriod } from "./period.ts"

const UNCATEGORISED = "Uncategorised"

const LatestMonth = Schema.Struct({ latest: Schema.NullOr(Schema.String) })

/**
 * The inventory's sums with GROUPING SETS: exact NUMERIC sums as text, rounded only when the report
 * is built. Whole months are read from the cells of `inventory_totals` (migration 0052: kept by the
 * database in the same statement as every change of an activity), so a report of whole months costs
 * the same at ten thousand activities as at ten million; the days of a period that starts or ends
 * inside a month are read from those days' activities. A scope 3 cell's category is its factor's,
 * unless the activities' own `category` text names a GHG Protocol category (ghgCategories.ts),
 * joined here set-based against every accepted alias.
 */
export class InventoryRepo extends Effect.Service<InventoryRepo>()("scopeline/InventoryRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const aliases = scope3CategoryAliases()
    const aliasTexts = aliases.map(([alias]) => alias)
    const aliasCategories = aliases.map(([, category]) => category)

    // The upload and site filters, on the cells (t) or the activities (a): both carry the columns.
    const scopeFilters = (request: typeof InventoryRequest.Encoded, alias: "t" | "a") => [
      ...(request.uploadId === null ? [] : [sql`${sql.literal(alias)}.upload_id = ${request.uploadId}`]),
      // Site codes are unique whatever their case (migration 0030), and matched so.
      ...(request.site === null
        ? []
        : [sql`${sql.literal(alias)}.site_id IN (SELECT id FROM sites WHERE lower(code) = lower(${request.site}))`]),
    ]
    const cellFilters = (request: typeof InventoryRequest.Encoded, months: { readonly from: Day | null; readonly until: Day | null }) => [
      // Undated activities belong to no period: only a report without one counts them.
      ...(request.from === null && request.to === null ? [] : [sql`t.month IS NOT NULL`]),
      ...(months.from === null ? [] : [sql`t.month >= ${months.from}::date`]),
      ...(months.until === null ? [] : [sql`t.month < ${months.until}::date`]),
      ...scopeFilters(request, "t"),
    ]
    const edgeFilters = (request: typeof InventoryRequest.Encoded, edges: ReadonlyArray<{ readonly from: Day; readonly to: Day }>) => [
      sql.or(edges.map((edge) => sql`a.activity_date BETWEEN ${edge.from}::date AND ${edge.to}::date`)),
      ...scopeFilters(request, "a"),
    ]

    /** Priced sums by the report's dimensions (before the category refinement), from cells and edge days. */
    const pricedParts = (request: typeof InventoryRequest.Encoded) => {
      const { months, edges } = splitPeriod(request.from, request.to)
      const parts = [
        ...(months === null
          ? []
          : [
              sql`SELECT t.activity_category, t.factor_scope, t.factor_scope3_category, t.factor_category, t.month, t.priced,
                         t.emissions, t.emissions_co2, t.emissions_ch4, t.emissions_n2o, t.emissions_other
                  FROM inventory_totals t
                  WHERE ${sql.and([sql`t.status = 'calculated'`, sql`t.priced > 0`, ...cellFilters(request, months)])}`,
            ]),
        ...(edges.length === 0
          ? []
          : [
              sql`SELECT nullif(trim(a.category), ''), f.ghg_scope, f.scope3_category, f.category_path[1],
                         date_trunc('month', a.activity_date)::date, 1::bigint, a.emissions, coalesce(a.emissions_co2, 0),
                         coalesce(a.emissions_ch4, 0), coalesce(a.emissions_n2o, 0), a.emissions_other
                  FROM activities a JOIN emission_factors f ON f.id = a.matched_factor_id
                  WHERE ${sql.and([sql`a.status = 'calculated'`, sql`a.emissions IS NOT NULL`, ...edgeFilters(request, edges)])}`,
            ]),
      ]
      return parts.length === 0 ? null : parts.reduce((all, part) => sql`${all} UNION ALL ${part}`)
    }

    const sums = SqlSchema.findAll({
      Request: InventoryRequest,
      Result: InventoryCell,
      execute: (request) => {
        const parts = pricedParts(request)
        if (parts === null) return sql`SELECT 1 WHERE false`
        return sql`
        WITH refine AS (
          SELECT DISTINCT ON (alias) alias, category
          FROM unnest(${aliasTexts}::text[], ${aliasCategories}::int[]) AS r(alias, category)),
        parts AS (
          SELECT activity_category, factor_scope, factor_scope3_category, factor_category, month,
                 sum(priced) AS priced, sum(emissions) AS emissions, sum(emissions_co2) AS emissions_co2,
                 sum(emissions_ch4) AS emissions_ch4, sum(emissions_n2o) AS emissions_n2o, sum(emissions_other) AS emissions_other
          FROM (${parts}) AS x(activity_category, factor_scope, factor_scope3_category, factor_category, month, priced,
                               emissions, emissions_co2, emissions_ch4, emissions_n2o, emissions_other)
          GROUP BY 1, 2, 3, 4, 5),
        priced AS (
          SELECT p.priced, p.emissions, p.emissions_co2, p.emissions_ch4, p.emissions_n2o, p.emissions_other,
                 p.factor_scope AS scope,
                 CASE WHEN p.factor_scope = 3 THEN coalesce(r.category, p.factor_scope3_category) END AS scope3_category,
                 coalesce(p.activity_category, p.factor_category, ${UNCATEGORISED}) AS category,
                 to_char(p.month, 'YYYY-MM') AS month
          FROM parts p
          LEFT JOIN refine r ON r.alias = trim(regexp_replace(lower(p.activity_category), '[^a-z0-9]+', ' ', 'g')))
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
        GROUP BY GROUPING SETS ((), (scope), (scope, scope3_category), (category), (month, scope))`
      },
    })

    const counts = SqlSchema.single({
      Request: InventoryRequest,
      Result: StatusCounts,
      execute: (request) => {
        const { months, edges } = splitPeriod(request.from, request.to)
        const parts = [
          ...(months === null
            ? []
            : [sql`SELECT t.status, t.review_status, t.activities FROM inventory_totals t WHERE ${sql.and(cellFilters(request, months))}`]),
          ...(edges.length === 0
            ? []
            : [sql`SELECT a.status, a.review_status, 1::bigint FROM activities a WHERE ${sql.and(edgeFilters(request, edges))}`]),
        ]
        const rows = parts.length === 0 ? sql`SELECT NULL::activity_status, NULL::text, 0::bigint WHERE false` : parts.reduce((all, part) => sql`${all} UNION ALL ${part}`)
        return sql`
        SELECT coalesce(sum(n), 0)::int AS activities,
               coalesce(sum(n) FILTER (WHERE status = 'calculated'), 0)::int AS calculated,
               coalesce(sum(n) FILTER (WHERE status = 'failed'), 0)::int AS failed,
               coalesce(sum(n) FILTER (WHERE status IN ('ingested', 'matching')), 0)::int AS pending,
               coalesce(sum(n) FILTER (WHERE status = 'calculated' AND review_status = 'needs_review'), 0)::int AS needs_review
        FROM (${rows}) AS x(status, review_status, n)`
      },
    })

    const latestMonth = SqlSchema.single({
      Request: Schema.Void,
      Result: LatestMonth,
      execute: () => sql`
        SELECT to_char(max(month), 'YYYY-MM-DD') AS latest FROM inventory_totals WHERE status = 'calculated'`,
    })

    return {
      sums: Effect.fn("InventoryRepo.sums")(function* (request: InventoryRequest) {
        return yield* sums(request).pipe(Effect.orDie)
      }),
      counts: Effect.fn("InventoryRepo.counts")(function* (request: InventoryRequest) {
        return yield* counts(request).pipe(Effect.orDie)
      }),
      /** The first day of the latest month with calculated activities: where the dashboard's default period ends. */
      latestDate: Effect.fn("InventoryRepo.latestDate")(function* () {
        const row = yield* latestMonth(undefined).pipe(Effect.orDie)
        return Option.fromNullable(row.latest)
      }),
    }
  }),
}) {}
