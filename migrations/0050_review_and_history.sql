-- Reviewing matches: how sure the match was (review_status), the candidates the matcher weighed, a
-- person's decision on a key or a row, and every change of an activity's factor or emissions.

-- The review state of a calculated activity. An AI or cache match below REVIEW_BELOW (0.8 by default)
-- is 'needs_review', at or above it 'auto_accepted'; a person's decision is 'reviewed'. NULL for an
-- activity that has no factor (its status and failure_kind say why).
ALTER TABLE activities
    ADD COLUMN review_status TEXT CHECK (review_status IN ('needs_review', 'auto_accepted', 'reviewed')),
    -- 'activity': a person decided this row only, so a later decision on its key leaves it alone.
    ADD COLUMN decision_scope TEXT CHECK (decision_scope IN ('key', 'activity'));

ALTER TABLE activities DROP CONSTRAINT activities_match_source_check;
ALTER TABLE activities ADD CONSTRAINT activities_match_source_check CHECK (match_source IN ('cache', 'ai', 'manual'));

-- Rows priced before the gate existed, judged by the default gate.
UPDATE activities SET review_status = CASE WHEN factor_confidence < 0.8 THEN 'needs_review' ELSE 'auto_accepted' END
WHERE status = 'calculated';

-- Decisions apply to "every activity with this key, in every upload": across uploads, by key. The key
-- is written by the match claim, never at ingest, so the parse pays nothing for this index.
CREATE INDEX activities_match_key_idx ON activities (match_key) WHERE match_key IS NOT NULL;

-- The review queue reads only what needs a person: low-confidence matches and answers that found no
-- factor. Few rows, so a partial index keeps the queue fast however large the tenant is.
CREATE INDEX activities_review_idx ON activities (match_key)
    WHERE review_status = 'needs_review' OR (status = 'failed' AND failure_kind IN ('no_match', 'unit_mismatch'));

-- The activities listing filtered by review status walks its keyset order among the flagged rows only.
CREATE INDEX activities_needs_review_page_idx ON activities (created_at DESC, upload_id, row_number)
    WHERE review_status = 'needs_review';

-- The matcher's top candidates for a key (best first, up to 5: [{factor_id, confidence}], ids of
-- emission_factors), kept so the review page offers them without calling the matcher again; and who
-- decided a manual entry, when, and why.
ALTER TABLE match_cache
    ADD COLUMN candidates JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(candidates) = 'array'),
    ADD COLUMN decided_by UUID REFERENCES users(id),
    ADD COLUMN decided_at TIMESTAMPTZ,
    ADD COLUMN note TEXT;

-- Every change of an activity's factor or emissions, in order: the first pricing (ai, cache), a
-- person's decision (manual), a restatement on another factor set (recalculation). Append-only: the
-- activity's current numbers are the last entry's `to_*`.
-- No foreign keys: every row is written by the same statement that changes the activity it names,
-- from that activity's row, and activities, users and factors are never deleted. A key check costs a
-- lookup and a row lock on the referenced rows for each of the million history rows a large upload's
-- pricing writes, which doubled the time of a cached upload (docs/benchmarks.md).
CREATE TABLE activity_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    activity_id UUID NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    changed_by UUID,
    source TEXT NOT NULL CHECK (source IN ('ai', 'cache', 'manual', 'recalculation')),
    from_factor_id UUID,
    to_factor_id UUID,
    from_kg_co2e NUMERIC,
    to_kg_co2e NUMERIC,
    note TEXT,
    recalculation_id UUID
);
CREATE INDEX activity_history_activity_idx ON activity_history (activity_id, id);

CREATE FUNCTION activity_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activity_history is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER activity_history_append_only BEFORE UPDATE OR TRUNCATE ON activity_history
    FOR EACH STATEMENT EXECUTE FUNCTION activity_history_append_only();

-- The activities calculated before the history existed start theirs with the pricing they have.
INSERT INTO activity_history (activity_id, at, source, to_factor_id, to_kg_co2e)
SELECT id, updated_at, coalesce(match_source, 'ai'), matched_factor_id, emissions
FROM activities WHERE status = 'calculated';
