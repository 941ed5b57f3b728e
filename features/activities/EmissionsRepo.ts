import { SqlClient, SqlSchema } from "@effect/sql"
import { UploadId } from "@scopeline/uploads"
import { Effect, Schema } from "effect"

export class EmissionsQuery extends Schema.Class<EmissionsQuery>("EmissionsQuery")({
  /** Totals of one upload; all uploads when absent. */
  uploadId: Schema.optional(UploadId),
}) {}

export class EmissionsBucket extends Schema.Class<EmissionsBucket>("EmissionsBucket")({
  /** "Scope 1", a category ("Electricity"), or a month "2024-03"; null only for an undated activity's month. */
  label: Schema.NullOr(Schema.String),
  kgCo2e: Schema.Number,
  activities: Schema.Int,
}) {}

export class EmissionsTotals extends Schema.Class<EmissionsTotals>("EmissionsTotals")({
  kgCo2e: Schema.Number,
  activities: Schema.Int,
  byScope: Schema.Array(EmissionsBucket),
  byCategory: Schema.Array(EmissionsBucket),
  byMonth: Schema.Array(EmissionsBucket),
}) {}

const TotalsRow = Schema.Struct({
  grouping: Schema.Literal("total", "scope", "category", "month"),
  label: Schema.NullOr(Schema.String),
  // Finite by construction (every activity's emissions are bounded: QuantityRange.ts); were a sum ever
  // to pass a double's range, the request fails loudly rather than JSON turning Infinity into null.
  kgCo2e: Schema.compose(Schema.NumberFromString, Schema.Finite),
  activities: Schema.Int,
})

const UNSCOPED = "Unscoped"
const UNCATEGORISED = "Uncategorised"

/**
 * Emissions totals in kg CO2e over 'calculated' activities only (a failed or pending activity has no
 * emissions to add). Categories are the activity's own when the file gave one, otherwise the matched
 * factor's top-level category ("Fuels", "UK electricity"). One scan with GROUPING SETS.
 */
export class EmissionsRepo extends Effect.Service<EmissionsRepo>()("scopeline/EmissionsRepo", {
  effect: Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient

    const query = SqlSchema.findAll({
      Request: EmissionsQuery,
      Result: TotalsRow,
      execute: (q) => sql`
        WITH priced AS (
          SELECT a.emissions,
                 coalesce(f.scope, ${UNSCOPED}) AS scope,
                 coalesce(nullif(trim(a.category), ''), f.category_path[1], ${UNCATEGORISED}) AS category,
                 to_char(a.activity_date, 'YYYY-MM') AS month
          FROM activities a LEFT JOIN emission_factors f ON f.id = a.matched_factor_id
          WHERE a.status = 'calculated' AND a.emissions IS NOT NULL
            ${q.uploadId === undefined ? sql`` : sql`AND a.upload_id = ${q.uploadId}`})
        SELECT CASE WHEN GROUPING(scope) = 0 THEN 'scope'
                    WHEN GROUPING(category) = 0 THEN 'category'
                    WHEN GROUPING(month) = 0 THEN 'month'
                    ELSE 'total' END AS grouping,
               coalesce(scope, category, month) AS label,
               coalesce(sum(emissions), 0)::text AS kg_co2e,
               count(*)::int AS activities
        FROM priced
        GROUP BY GROUPING SETS ((scope), (category), (month), ())
        ORDER BY 1, 2`,
    })

    const totals = Effect.fn("EmissionsRepo.totals")(function* (request: { readonly uploadId?: UploadId } = {}) {
      const rows = yield* query(EmissionsQuery.make(request)).pipe(Effect.orDie)
      const bucket = (grouping: (typeof TotalsRow.Type)["grouping"]) =>
        rows
          .filter((row) => row.grouping === grouping)
          .map((row) => EmissionsBucket.make({ label: row.label, kgCo2e: row.kgCo2e, activities: row.activities }))
      const total = rows.find((row) => row.grouping === "total")
      return EmissionsTotals.make({
        kgCo2e: total?.kgCo2e ?? 0,
        activities: total?.activities ?? 0,
        byScope: bucket("scope"),
        byCategory: bucket("category"),
        byMonth: bucket("month"),
      })
    })

    return { totals }
  }),
}) {}
