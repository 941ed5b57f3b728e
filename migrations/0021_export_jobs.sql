-- Export jobs: a request to write activities or the inventory to a CSV or XLSX file in the
-- blob store, done by the worker from the `export` queue. The row is the job's state the pages and
-- GET /v1/exports/:id read; the file itself lives in the blob store under `blob_key`.
CREATE TABLE exports (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    requested_by UUID NOT NULL REFERENCES users(id),
    format TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    kind TEXT NOT NULL CHECK (kind IN ('activities', 'inventory')),
    -- As the request gave them (upload_id, status, from, to): the job reads them back with a Schema.
    filters JSONB NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    rows_written BIGINT NOT NULL DEFAULT 0 CHECK (rows_written >= 0),
    total_rows BIGINT CHECK (total_rows >= 0),
    blob_key TEXT,
    size_bytes BIGINT,
    failure_reason TEXT,
    correlation_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    CONSTRAINT exports_ready_has_file CHECK (status <> 'ready' OR (blob_key IS NOT NULL AND finished_at IS NOT NULL))
);

-- "My recent exports", newest first.
CREATE INDEX exports_requested_by_idx ON exports (requested_by, created_at DESC);

-- The export streams activities in file order per upload, a keyset page at a time: this index is the
-- (upload_id, row_number) unique key's, already there; activities without a row number come last by id.
CREATE INDEX activities_export_order_idx ON activities (id) WHERE row_number IS NULL;
