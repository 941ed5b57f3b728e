-- The matching pipeline's bookkeeping: why an activity failed decides whether a retry can help.
-- A matcher outage ('matcher_unavailable') is retried when the dead-lettered match job is replayed;
-- 'no_match', 'unit_mismatch' and 'invalid' are answers, final until a person acts on them.
ALTER TABLE activities
    ADD COLUMN failure_kind TEXT CHECK (failure_kind IN ('no_match', 'unit_mismatch', 'invalid', 'matcher_unavailable'));

-- A match job touches "the unsettled activities of this upload with this key": one index serves the
-- per-key UPDATEs of a large upload without scanning its settled rows.
CREATE INDEX activities_upload_match_key_idx ON activities (upload_id, match_key)
    WHERE status IN ('ingested', 'matching');

-- A replayed job finds the activities an outage left failed.
CREATE INDEX activities_matcher_unavailable_idx ON activities (upload_id)
    WHERE failure_kind = 'matcher_unavailable';
