-- Matching and emissions: how each activity got its factor, the key it shares with every other
-- activity of the same description + unit (+ geography), and retry bookkeeping.
ALTER TABLE activities
    ADD COLUMN match_key TEXT,
    ADD COLUMN match_source TEXT CHECK (match_source IN ('cache', 'ai')),
    ADD COLUMN retry_count INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN last_attempt_at TIMESTAMPTZ;

-- Set-based updates touch "every unsettled activity with this key".
CREATE INDEX activities_match_key_idx ON activities (match_key) WHERE status IN ('ingested', 'matching');
-- Status counts per upload (progress) and the activities table's filters.
CREATE INDEX activities_upload_status_idx ON activities (upload_id, status);
-- Keyset pagination of the activities table: newest upload first, then file order.
CREATE INDEX activities_page_idx ON activities (created_at DESC, upload_id, row_number);
