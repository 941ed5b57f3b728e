import type { SQL } from "bun"

/**
 * The inventory's cells two ways, in one comparable form (every value as text, sums without trailing
 * zeros, sorted): as stored in `inventory_totals`, and recounted from scratch from the activities by
 * the definition in migration 0052. The recount is written here independently of the triggers, so a
 * fault in them shows up as a difference.
 */
const KEY = `month::text AS month, upload_id::text AS upload, site_id::text AS site, status::text AS status,
  review_status, activity_category, factor_scope::text AS scope, factor_scope3_category::text AS scope3, factor_category`
const ORDER = "ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9"

export const storedCells = (sql: SQL) =>
  sql.unsafe(`
    SELECT ${KEY}, activities::text AS activities, priced::text AS priced, trim_scale(emissions)::text AS emissions,
      trim_scale(emissions_co2)::text AS co2, trim_scale(emissions_ch4)::text AS ch4, trim_scale(emissions_n2o)::text AS n2o,
      trim_scale(emissions_other)::text AS other
    FROM inventory_totals ${ORDER}`)

export const recount = (sql: SQL) =>
  sql.unsafe(`
    WITH rows AS (
      SELECT date_trunc('month', a.activity_date)::date AS month, a.upload_id, a.site_id, a.status, a.review_status,
             nullif(trim(a.category), '') AS activity_category,
             CASE WHEN a.status = 'calculated' THEN f.ghg_scope END AS factor_scope,
             CASE WHEN a.status = 'calculated' THEN f.scope3_category END AS factor_scope3_category,
             CASE WHEN a.status = 'calculated' THEN f.category_path[1] END AS factor_category,
             (a.status = 'calculated' AND a.emissions IS NOT NULL AND f.id IS NOT NULL) AS priced,
             a.emissions, a.emissions_co2, a.emissions_ch4, a.emissions_n2o, a.emissions_other
      FROM activities a LEFT JOIN emission_factors f ON f.id = a.matched_factor_id)
    SELECT ${KEY}, count(*)::text AS activities, count(*) FILTER (WHERE priced)::text AS priced,
      trim_scale(coalesce(sum(emissions) FILTER (WHERE priced), 0))::text AS emissions,
      trim_scale(coalesce(sum(coalesce(emissions_co2, 0)) FILTER (WHERE priced), 0))::text AS co2,
      trim_scale(coalesce(sum(coalesce(emissions_ch4, 0)) FILTER (WHERE priced), 0))::text AS ch4,
      trim_scale(coalesce(sum(coalesce(emissions_n2o, 0)) FILTER (WHERE priced), 0))::text AS n2o,
      trim_scale(coalesce(sum(emissions_other) FILTER (WHERE priced), 0))::text AS other
    FROM rows
    GROUP BY month, upload_id, site_id, status, review_status, activity_category, factor_scope, factor_scope3_category, factor_category
    ${ORDER}`)

/** The review queue's keys (migration 0053) as stored, and recounted from the activities. */
export const storedReviewKeys = (sql: SQL) =>
  sql.unsafe(`
    SELECT match_key, activities::text AS activities, failed::text AS failed, trim_scale(emissions)::text AS emissions
    FROM review_queue_keys ORDER BY match_key`)

export const recountReviewKeys = (sql: SQL) =>
  sql.unsafe(`
    SELECT match_key, count(*)::text AS activities, count(*) FILTER (WHERE status = 'failed')::text AS failed,
      trim_scale(coalesce(sum(emissions), 0))::text AS emissions
    FROM activities
    WHERE match_key IS NOT NULL
      AND (review_status = 'needs_review' OR (status = 'failed' AND failure_kind IN ('no_match', 'unit_mismatch')))
    GROUP BY match_key ORDER BY match_key`)
