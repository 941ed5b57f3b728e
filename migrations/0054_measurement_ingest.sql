-- A batch of measurements in one call: the site's lock, the readings, the running totals and the
-- limit check run inside the database instead of as four statements from the server. The batch
-- holds its site's lock for one round trip less each, and PL/pgSQL keeps each statement's plan for
-- the connection, so the statements are no longer parsed and planned on every request (that was
-- half the database's time per batch, docs/benchmarks.md).

-- Each site's sums over a period: the running measurement totals of the period's months, and the
-- calculated activities dated in it (from the inventory's cells, migration 0052). One call for any
-- number of (site, period) pairs; `from_day` inclusive, `until_day` exclusive.
CREATE FUNCTION site_period_totals(p_site_ids UUID[], p_from DATE[], p_until DATE[])
RETURNS TABLE (site_id UUID, "from" TEXT, measured_kg_co2e TEXT, activities_kg_co2e TEXT, activities INTEGER,
               total_kg_co2e TEXT, by_gas JSON)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH p AS (
        SELECT * FROM unnest(p_site_ids, p_from, p_until) AS p(site_id, from_day, until_day)),
    m AS (
        SELECT p.site_id, p.from_day, t.gas, sum(t.kg) AS kg, sum(t.kg_co2e) AS kg_co2e, sum(t.measurements) AS n
        FROM p JOIN site_month_totals t ON t.site_id = p.site_id AND t.month >= p.from_day AND t.month < p.until_day
        GROUP BY p.site_id, p.from_day, t.gas),
    a AS (
        SELECT p.site_id, p.from_day, coalesce(sum(x.emissions), 0) AS kg, coalesce(sum(x.priced), 0) AS n
        FROM p LEFT JOIN inventory_totals x ON x.site_id = p.site_id AND x.status = 'calculated' AND x.priced > 0
                                            AND x.month >= p.from_day AND x.month < p.until_day
        GROUP BY p.site_id, p.from_day),
    mt AS (SELECT m.site_id, m.from_day, sum(m.kg_co2e) AS kg_co2e FROM m GROUP BY m.site_id, m.from_day)
    SELECT p.site_id, to_char(p.from_day, 'YYYY-MM-DD'),
           coalesce(mt.kg_co2e, 0)::text,
           a.kg::text,
           a.n::int,
           (coalesce(mt.kg_co2e, 0) + a.kg)::text,
           coalesce((SELECT json_agg(json_build_object('gas', m.gas, 'kg', m.kg::text, 'co2e', m.kg_co2e::text,
                                                       'measurements', m.n) ORDER BY m.gas)
                     FROM m WHERE m.site_id = p.site_id AND m.from_day = p.from_day), '[]'::json)
    FROM p
    JOIN a ON a.site_id = p.site_id AND a.from_day = p.from_day
    LEFT JOIN mt ON mt.site_id = p.site_id AND mt.from_day = p.from_day;
END
$$;

-- The first day of a period key ('2026-12' a month, '2026' a year, as Site.ts periodOf writes them)
-- and the first day after it.
CREATE FUNCTION site_period_bounds(p_period TEXT, OUT from_day DATE, OUT until_day DATE)
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT d, (d + CASE WHEN length(p_period) = 4 THEN interval '1 year' ELSE interval '1 month' END)::date
    FROM (SELECT make_date(left(p_period, 4)::int, coalesce(nullif(substr(p_period, 6), '')::int, 1), 1) AS d) b
$$;

-- The limit rule's write: for each period, each threshold (percent of the limit) the site's total has
-- reached gets its alert, once ever (the site_alerts_once key makes a retry, replay or race raise
-- nothing). Returns the alerts raised by this call. Call it with the site locked, so the total read is
-- the one just committed.
CREATE FUNCTION site_alerts_raise(p_site UUID, p_limit NUMERIC, p_periods TEXT[], p_thresholds INTEGER[])
RETURNS TABLE (id UUID, period TEXT, threshold INTEGER, total_kg_co2e TEXT, limit_kg_co2e TEXT)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH c AS (
        SELECT k.period, b.from_day, b.until_day
        FROM unnest(p_periods) AS k(period) CROSS JOIN LATERAL site_period_bounds(k.period) b),
    t AS (
        SELECT * FROM site_period_totals(
            array_fill(p_site, ARRAY[cardinality(p_periods)]), ARRAY(SELECT from_day FROM c ORDER BY period),
            ARRAY(SELECT until_day FROM c ORDER BY period))),
    ins AS (
        INSERT INTO site_alerts AS s (site_id, period, threshold, total_kg_co2e, limit_kg_co2e)
        SELECT p_site, c.period, h.threshold, t.total_kg_co2e::numeric, p_limit
        FROM c JOIN t ON t."from" = to_char(c.from_day, 'YYYY-MM-DD') CROSS JOIN unnest(p_thresholds) AS h(threshold)
        WHERE t.total_kg_co2e::numeric * 100 >= p_limit * h.threshold
        ORDER BY c.period, h.threshold
        ON CONFLICT ON CONSTRAINT site_alerts_once DO NOTHING
        RETURNING s.id, s.period, s.threshold, s.total_kg_co2e, s.limit_kg_co2e)
    SELECT ins.id, ins.period, ins.threshold, ins.total_kg_co2e::text, ins.limit_kg_co2e::text
    FROM ins ORDER BY ins.period, ins.threshold;
END
$$;

-- One batch of a site's readings (the arrays are the batch's items, already validated and without
-- repeats of one reading), in the caller's transaction:
--   1. the site's row is locked, so batches for one site take turns and the limit check below reads
--      a total no concurrent batch is still changing;
--   2. each reading not stored yet is inserted (the measurements_once key answers the rest as
--      duplicates), and the site's month × gas totals grow by exactly what was inserted;
--   3. with a limit, the periods (of the site's limit period) the new readings fall in are checked.
-- `site_found` is false for an unknown site (nothing is written then); `inserted` lists the 1-based
-- positions of the stored items; `periods` are the periods they fall in; `alerts` the alerts raised.
CREATE FUNCTION measurements_record(
    p_site UUID, p_device TEXT[], p_gas TEXT[], p_at TIMESTAMPTZ[], p_quantity NUMERIC[], p_unit TEXT[],
    p_method TEXT[], p_gwp NUMERIC[], p_gwp_ref TEXT[], p_by TEXT, p_thresholds INTEGER[],
    OUT site_found BOOLEAN, OUT site_code TEXT, OUT inserted INTEGER[], OUT periods TEXT[], OUT alerts JSON)
LANGUAGE plpgsql AS $$
DECLARE
    site RECORD;
BEGIN
    inserted := '{}';
    periods := '{}';
    alerts := '[]'::json;
    SELECT s.code, s.emission_limit_kg_co2e, s.limit_period INTO site FROM sites s WHERE s.id = p_site FOR UPDATE;
    site_found := FOUND;
    IF NOT site_found THEN
        RETURN;
    END IF;
    site_code := site.code;

    WITH input AS (
        SELECT * FROM unnest(p_device, p_gas, p_at, p_quantity, p_unit, p_method, p_gwp, p_gwp_ref)
            WITH ORDINALITY AS i(device_id, gas, measured_at, quantity, unit, method, gwp, gwp_ref, n)),
    ins AS (
        INSERT INTO measurements (site_id, device_id, gas, measured_at, quantity, unit, method, gwp, gwp_ref, kg, kg_co2e, recorded_by)
        SELECT p_site, i.device_id, i.gas, i.measured_at, i.quantity, i.unit, i.method, i.gwp, i.gwp_ref, k.kg, k.kg * i.gwp, p_by
        FROM input i CROSS JOIN LATERAL (SELECT i.quantity * CASE i.unit WHEN 'g' THEN 0.001 WHEN 't' THEN 1000 ELSE 1 END AS kg) k
        ORDER BY i.n
        ON CONFLICT ON CONSTRAINT measurements_once DO NOTHING
        RETURNING device_id, gas, measured_at, kg, kg_co2e),
    totals AS (
        INSERT INTO site_month_totals AS t (site_id, month, gas, kg, kg_co2e, measurements)
        SELECT p_site, date_trunc('month', ins.measured_at AT TIME ZONE 'UTC')::date, ins.gas, sum(ins.kg), sum(ins.kg_co2e), count(*)
        FROM ins GROUP BY 2, 3
        ORDER BY 2, 3
        ON CONFLICT (site_id, month, gas) DO UPDATE
          SET kg = t.kg + excluded.kg, kg_co2e = t.kg_co2e + excluded.kg_co2e, measurements = t.measurements + excluded.measurements),
    -- Each stored row answers for exactly one item, the first that maps to it, so no count can
    -- exceed what was stored whatever the arrays hold (the server already sends no repeats).
    stored AS (
        SELECT min(i.n)::int AS n, ins.measured_at
        FROM ins JOIN input i ON i.gas = ins.gas AND i.measured_at = ins.measured_at AND i.device_id IS NOT DISTINCT FROM ins.device_id
        GROUP BY ins.device_id, ins.gas, ins.measured_at)
    SELECT coalesce(array_agg(stored.n ORDER BY stored.n), '{}'),
           coalesce(array_agg(DISTINCT to_char(stored.measured_at AT TIME ZONE 'UTC',
                                               CASE site.limit_period WHEN 'month' THEN 'YYYY-MM' ELSE 'YYYY' END)), '{}')
    INTO inserted, periods
    FROM stored;

    IF site.emission_limit_kg_co2e IS NULL OR cardinality(periods) = 0 THEN
        RETURN;
    END IF;
    SELECT coalesce(json_agg(json_build_object('id', r.id, 'period', r.period, 'threshold', r.threshold,
                                               'total_kg_co2e', r.total_kg_co2e, 'limit_kg_co2e', r.limit_kg_co2e)
                             ORDER BY r.period, r.threshold), '[]'::json)
    INTO alerts
    FROM site_alerts_raise(p_site, site.emission_limit_kg_co2e, periods, p_thresholds) r;
END
$$;
