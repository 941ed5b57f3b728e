-- The review queue's keys, kept up to date by the database in the same statement as every change of
-- an activity (as the inventory's cells are, migration 0052), so the queue reads its page of keys in
-- order instead of grouping every activity that needs a person on each request.
--
-- One row per match key with activities that need a person: an automatic match under the review gate
-- ('needs_review'), or an answer that found no usable factor (failed as 'no_match' or
-- 'unit_mismatch'). Counts and the exact sum of their emissions (failed rows have none).
CREATE TABLE review_queue_keys (
    match_key TEXT PRIMARY KEY,
    activities BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    emissions NUMERIC NOT NULL
);

-- The queue's order and keyset: largest emissions first, then by key.
CREATE INDEX review_queue_keys_order_idx ON review_queue_keys (emissions DESC, match_key);
-- Emptied keys are found without reading the others.
CREATE INDEX review_queue_keys_empty_idx ON review_queue_keys ((1)) WHERE activities = 0;

-- The queue shows one activity of each key (its description and unit, and the row a decision is
-- addressed to): the lowest id among those that need a person, found in the index alone. Replaces
-- migration 0050's index on the key only, with the same rows.
DROP INDEX activities_review_idx;
CREATE INDEX activities_review_idx ON activities (match_key, id)
    WHERE review_status = 'needs_review' OR (status = 'failed' AND failure_kind IN ('no_match', 'unit_mismatch'));

-- The statement that adds the signed contribution of `source`'s rows (sign, match_key, status,
-- review_status, failure_kind, emissions) to the keys, for the trigger function to EXECUTE itself.
CREATE FUNCTION review_queue_keys_merge(source TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT format($q$
        WITH keys AS (
            SELECT match_key, sum(sign) AS activities, coalesce(sum(sign) FILTER (WHERE status = 'failed'), 0) AS failed,
                   coalesce(sum(sign * emissions), 0) AS emissions
            FROM (%s) r
            WHERE match_key IS NOT NULL
              AND (review_status = 'needs_review' OR (status = 'failed' AND failure_kind IN ('no_match', 'unit_mismatch')))
            GROUP BY match_key)
        -- Rows enter in key order, so two statements that touch the same keys lock them in one order.
        INSERT INTO review_queue_keys AS k (match_key, activities, failed, emissions)
        SELECT * FROM keys WHERE activities <> 0 OR failed <> 0 OR emissions <> 0 ORDER BY match_key
        ON CONFLICT (match_key) DO UPDATE SET
            activities = k.activities + EXCLUDED.activities,
            failed = k.failed + EXCLUDED.failed,
            emissions = k.emissions + EXCLUDED.emissions
    $q$, source)
$$;

CREATE FUNCTION review_queue_keys_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    part CONSTANT TEXT := 'SELECT %s::int AS sign, match_key, status, review_status, failure_kind, emissions FROM %s';
BEGIN
    EXECUTE review_queue_keys_merge(CASE TG_OP
        WHEN 'INSERT' THEN format(part, 1, 'new_rows')
        WHEN 'DELETE' THEN format(part, -1, 'old_rows')
        ELSE format(part, -1, 'old_rows') || ' UNION ALL ' || format(part, 1, 'new_rows')
    END);
    DELETE FROM review_queue_keys WHERE activities = 0;
    RETURN NULL;
END $$;

CREATE TRIGGER review_queue_keys_on_insert AFTER INSERT ON activities
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_queue_keys_track();
CREATE TRIGGER review_queue_keys_on_update AFTER UPDATE ON activities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_queue_keys_track();
CREATE TRIGGER review_queue_keys_on_delete AFTER DELETE ON activities
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION review_queue_keys_track();

-- TRUNCATE fires no row or DELETE trigger: emptying the activities empties the keys with them.
CREATE FUNCTION review_queue_keys_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE review_queue_keys;
    RETURN NULL;
END $$;
CREATE TRIGGER review_queue_keys_on_truncate AFTER TRUNCATE ON activities
    FOR EACH STATEMENT EXECUTE FUNCTION review_queue_keys_truncate();

-- Recounts every key from the activities, for an operator who has changed activities with triggers
-- disabled (a restore, a manual repair): `SELECT review_queue_keys_rebuild();`.
CREATE FUNCTION review_queue_keys_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE activities IN SHARE MODE;
    DELETE FROM review_queue_keys;
    EXECUTE review_queue_keys_merge('SELECT 1 AS sign, match_key, status, review_status, failure_kind, emissions FROM activities');
END $$;

-- Existing activities, counted once.
SELECT review_queue_keys_rebuild();
