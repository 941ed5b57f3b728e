-- The inventory's totals, kept up to date by the database in the same statement as every change of an
-- activity, so a report sums a few thousand cells instead of scanning millions of activities.
--
-- One cell per (month of the activity date, upload, site, status, review status, the activity's own
-- category text, and its factor's scope, scope 3 category and first category). Months, not days: a
-- year of a large tenant is then thousands of cells rather than a hundred thousand, and reports,
-- dashboards and site limits are by month or year; the days of a period that starts or ends inside
-- a month are read from the activities (InventoryRepo). The factor's part is copied into the cell, and
-- InventoryRepo resolves a cell's reported scope 3 category and category from those texts at read
-- time (the refinement by the activity's category text lives in features/catalogue/ghgCategories.ts).
-- Cells use exact NUMERIC sums; rows whose status is not 'calculated' carry counts only.
--
-- Why triggers rather than one more statement beside each writer: every statement that changes
-- activities (ingest's COPY, the match claim, pricing, failures, decisions, recalculations, and any
-- future one) is covered without knowing about it, inside its own transaction, set-based from the
-- statement's transition tables. test/inventory/totals.property.test.ts holds the cells equal to a
-- full recount after random uploads, decisions and recalculations.
CREATE TABLE inventory_totals (
    -- The first day of the activity date's month.
    month DATE,
    upload_id UUID NOT NULL,
    site_id UUID,
    status activity_status NOT NULL,
    review_status TEXT,
    -- nullif(trim(activities.category), '')
    activity_category TEXT,
    -- The factor's ghg_scope, scope3_category and category_path[1]: NULL unless status is 'calculated'.
    factor_scope SMALLINT,
    factor_scope3_category SMALLINT,
    factor_category TEXT,
    activities BIGINT NOT NULL,
    -- Calculated activities with emissions and a factor: what the sums cover.
    priced BIGINT NOT NULL,
    emissions NUMERIC NOT NULL,
    emissions_co2 NUMERIC NOT NULL,
    emissions_ch4 NUMERIC NOT NULL,
    emissions_n2o NUMERIC NOT NULL,
    emissions_other NUMERIC NOT NULL,
    CONSTRAINT inventory_totals_cell UNIQUE NULLS NOT DISTINCT (
        month, upload_id, site_id, status, review_status, activity_category,
        factor_scope, factor_scope3_category, factor_category)
);

-- A report for an upload reads its cells only.
CREATE INDEX inventory_totals_upload_idx ON inventory_totals (upload_id);
-- Emptied cells are found without reading the others.
CREATE INDEX inventory_totals_empty_idx ON inventory_totals ((1)) WHERE activities = 0;

-- The statement that adds the signed contribution of the rows `source` yields to the cells, for the
-- trigger functions to EXECUTE themselves (a transition table is visible only to the trigger's own
-- function, not to one it calls). `source` is a query over the firing statement's transition
-- tables with the columns: sign, activity_date, upload_id, site_id, status, review_status, category,
-- emissions, emissions_co2, emissions_ch4, emissions_n2o, emissions_other, factor_id, factor_scope,
-- factor_scope3_category, factor_category (the factor columns from whichever version of the factor
-- the row is counted with).
CREATE FUNCTION inventory_totals_merge(source TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT format($q$
        WITH rows AS (%s),
        cells AS (
            SELECT month, upload_id, site_id, status, review_status, activity_category,
                   factor_scope, factor_scope3_category, factor_category,
                   sum(sign) AS activities,
                   sum(sign) FILTER (WHERE priced) AS priced,
                   sum(sign * emissions) FILTER (WHERE priced) AS emissions,
                   sum(sign * coalesce(emissions_co2, 0)) FILTER (WHERE priced) AS emissions_co2,
                   sum(sign * coalesce(emissions_ch4, 0)) FILTER (WHERE priced) AS emissions_ch4,
                   sum(sign * coalesce(emissions_n2o, 0)) FILTER (WHERE priced) AS emissions_n2o,
                   sum(sign * emissions_other) FILTER (WHERE priced) AS emissions_other
            FROM (
                SELECT r.sign, date_trunc('month', r.activity_date)::date AS month, r.upload_id, r.site_id, r.status,
                       r.review_status, nullif(trim(r.category), '') AS activity_category,
                       r.status = 'calculated' AND r.emissions IS NOT NULL AND r.factor_id IS NOT NULL AS priced,
                       r.emissions, r.emissions_co2, r.emissions_ch4, r.emissions_n2o, r.emissions_other,
                       CASE WHEN r.status = 'calculated' THEN r.factor_scope END AS factor_scope,
                       CASE WHEN r.status = 'calculated' THEN r.factor_scope3_category END AS factor_scope3_category,
                       CASE WHEN r.status = 'calculated' THEN r.factor_category END AS factor_category
                FROM rows r) r
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9),
        changed AS (
            SELECT * FROM cells
            WHERE activities <> 0 OR coalesce(priced, 0) <> 0 OR coalesce(emissions, 0) <> 0
               OR coalesce(emissions_co2, 0) <> 0 OR coalesce(emissions_ch4, 0) <> 0
               OR coalesce(emissions_n2o, 0) <> 0 OR coalesce(emissions_other, 0) <> 0
            ORDER BY upload_id, month, site_id, status, review_status, activity_category,
                     factor_scope, factor_scope3_category, factor_category)
        -- Rows enter in key order, so two statements that touch the same cells lock them in one order.
        INSERT INTO inventory_totals AS t (month, upload_id, site_id, status, review_status,
            activity_category, factor_scope, factor_scope3_category, factor_category, activities, priced,
            emissions, emissions_co2, emissions_ch4, emissions_n2o, emissions_other)
        SELECT month, upload_id, site_id, status, review_status, activity_category, factor_scope,
               factor_scope3_category, factor_category, activities, coalesce(priced, 0),
               coalesce(emissions, 0), coalesce(emissions_co2, 0), coalesce(emissions_ch4, 0),
               coalesce(emissions_n2o, 0), coalesce(emissions_other, 0)
        FROM changed
        ON CONFLICT ON CONSTRAINT inventory_totals_cell DO UPDATE SET
            activities = t.activities + EXCLUDED.activities,
            priced = t.priced + EXCLUDED.priced,
            emissions = t.emissions + EXCLUDED.emissions,
            emissions_co2 = t.emissions_co2 + EXCLUDED.emissions_co2,
            emissions_ch4 = t.emissions_ch4 + EXCLUDED.emissions_ch4,
            emissions_n2o = t.emissions_n2o + EXCLUDED.emissions_n2o,
            emissions_other = t.emissions_other + EXCLUDED.emissions_other
    $q$, source)
$$;

-- The rows of `activities` (a table or transition table) with their factor from `factors`, signed, as
-- `inventory_totals_merge` takes them; `condition` narrows them.
CREATE FUNCTION inventory_totals_rows(activities TEXT, factors TEXT, sign INT, condition TEXT DEFAULT 'true')
RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT format($p$
        SELECT %3$s::int AS sign, a.activity_date, a.upload_id, a.site_id, a.status, a.review_status, a.category,
               a.emissions, a.emissions_co2, a.emissions_ch4, a.emissions_n2o, a.emissions_other,
               f.id AS factor_id, f.ghg_scope AS factor_scope, f.scope3_category AS factor_scope3_category,
               f.category_path[1] AS factor_category
        FROM %1$s a LEFT JOIN %2$s f ON f.id = a.matched_factor_id
        WHERE %4$s$p$, activities, factors, sign, condition)
$$;

-- Cells copy a factor's scope and categories, so a statement that prices activities and a reload
-- that corrects those factors must not each miss the other's uncommitted rows. Every activities
-- statement takes this lock shared; a factor correction takes it alone (inventory_totals_track_factors).
-- Whichever waits runs its next statement, the cell update, on a fresh snapshot in READ COMMITTED,
-- so it sees what the other committed: the activities priced meanwhile are moved, or are counted
-- with the corrected factor.
CREATE FUNCTION inventory_totals_factor_lock() RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT hashtextextended('inventory_totals: factor dimensions', 0)
$$;

CREATE FUNCTION inventory_totals_track_activities() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(inventory_totals_factor_lock());
    EXECUTE inventory_totals_merge(CASE TG_OP
        WHEN 'INSERT' THEN inventory_totals_rows('new_rows', 'emission_factors', 1)
        WHEN 'DELETE' THEN inventory_totals_rows('old_rows', 'emission_factors', -1)
        ELSE inventory_totals_rows('old_rows', 'emission_factors', -1) || ' UNION ALL ' || inventory_totals_rows('new_rows', 'emission_factors', 1)
    END);
    -- A cell whose last activity left it goes, so a report never lists an empty category.
    DELETE FROM inventory_totals WHERE activities = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER inventory_totals_on_insert AFTER INSERT ON activities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inventory_totals_track_activities();
CREATE TRIGGER inventory_totals_on_update AFTER UPDATE ON activities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION inventory_totals_track_activities();
CREATE TRIGGER inventory_totals_on_delete AFTER DELETE ON activities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION inventory_totals_track_activities();

-- TRUNCATE fires no row or DELETE trigger: emptying the activities empties the cells with them.
CREATE FUNCTION inventory_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE inventory_totals;
    RETURN NULL;
END $$;
CREATE TRIGGER inventory_totals_on_truncate AFTER TRUNCATE ON activities
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_totals_truncate();

-- A reloaded publication may correct a factor's scope or categories: the activities priced with it
-- move to the cells of its new version.
CREATE FUNCTION inventory_totals_track_factors() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved CONSTANT TEXT := $c$a.status = 'calculated' AND f.id IN (
        SELECT o.id FROM old_factors o JOIN new_factors n ON n.id = o.id
        WHERE (o.ghg_scope, o.scope3_category, o.category_path[1])
              IS DISTINCT FROM (n.ghg_scope, n.scope3_category, n.category_path[1]))$c$;
BEGIN
    IF EXISTS (SELECT 1 FROM old_factors o JOIN new_factors n ON n.id = o.id
               WHERE (o.ghg_scope, o.scope3_category, o.category_path[1])
                     IS DISTINCT FROM (n.ghg_scope, n.scope3_category, n.category_path[1])) THEN
        PERFORM pg_advisory_xact_lock(inventory_totals_factor_lock());
        -- Found by a scan of the activities: a correction is rare, and an index on the factor would
        -- cost every pricing statement a write.
        EXECUTE inventory_totals_merge(inventory_totals_rows('activities', 'old_factors', -1, moved)
            || ' UNION ALL ' || inventory_totals_rows('activities', 'new_factors', 1, moved));
        DELETE FROM inventory_totals WHERE activities = 0;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER inventory_totals_on_factor_update AFTER UPDATE ON emission_factors
    REFERENCING OLD TABLE AS old_factors NEW TABLE AS new_factors
    FOR EACH STATEMENT EXECUTE FUNCTION inventory_totals_track_factors();

-- Recounts every cell from the activities, for an operator who has changed activities with triggers
-- disabled (a restore, a manual repair): `SELECT inventory_totals_rebuild();`.
CREATE FUNCTION inventory_totals_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(inventory_totals_factor_lock());
    LOCK TABLE activities IN SHARE MODE;
    DELETE FROM inventory_totals;
    EXECUTE inventory_totals_merge(inventory_totals_rows('activities', 'emission_factors', 1));
END $$;

-- Existing activities, counted once.
SELECT inventory_totals_rebuild();

-- A site's totals for its period (SitesRepo.totals) read its cells by month. (The days of a report
-- period that starts or ends inside a month are read through activities_calculated_date_idx.)
CREATE INDEX inventory_totals_site_idx ON inventory_totals (site_id, month) WHERE site_id IS NOT NULL;
