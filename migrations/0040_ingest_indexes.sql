-- Every index on `activities` costs a B-tree insert per ingested row, and the parse is the
-- one place where a million rows arrive in one transaction. Kept: the primary key; the unique
-- (upload_id, row_number) (crash safety: a re-run parse cannot store a row twice), which also serves
-- every "this upload's rows" read; activities_page_idx (the activities listing's keyset order,
-- ActivitiesQuery.list); and the partial indexes whose predicate an ingested row never meets
-- (activities_matcher_unavailable_idx, activities_calculated_date_idx, activities_export_order_idx).

-- No query reads match_key without naming the upload (MatchRepo.claim/calculate/fail all filter on
-- upload_id first); activities_upload_match_key_idx below serves them.
DROP INDEX activities_match_key_idx;

-- Its readers all name the upload and read every row of it — UploadProgress.statusCounts and
-- MatchUpload's end-of-job counts (GROUP BY status), MatchRepo.streamInputs and claim (the claimable
-- rows) — and the unique (upload_id, row_number) finds those rows as well. The one read that wants
-- few rows by status is the failed filter of the activities listing; it gets its own partial index.
DROP INDEX activities_upload_status_idx;

-- ActivitiesQuery.list with status=failed (with or without an upload): failures are few, so walking
-- activities_page_idx to find 25 of them could read a whole tenant. Partial: ingest never writes it.
CREATE INDEX activities_failed_page_idx ON activities (created_at DESC, upload_id, row_number)
    WHERE status = 'failed';

-- MatchRepo.calculate and MatchRepo.fail touch "this upload's unsettled rows with this key". A key
-- is set by the claim, never at ingest, so rows without one are left out: ingest writes nothing
-- here. The planner proves `match_key IS NOT NULL` from those statements' `a.match_key = v.key`.
DROP INDEX activities_upload_match_key_idx;
CREATE INDEX activities_upload_match_key_idx ON activities (upload_id, match_key)
    WHERE match_key IS NOT NULL AND status IN ('ingested', 'matching');
