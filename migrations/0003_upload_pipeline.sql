-- Uploads and the all-or-nothing parse pipeline: upload bookkeeping, the parsed activity columns,
-- the transactional outbox, and the PostgreSQL-backed queue used in the embedded mode.

ALTER TABLE uploads
    ADD COLUMN original_filename TEXT,
    ADD COLUMN max_bytes BIGINT NOT NULL DEFAULT 104857600,
    ADD COLUMN size_bytes BIGINT,
    ADD COLUMN row_count INTEGER,
    ADD COLUMN error_count INTEGER,
    ADD COLUMN row_errors JSONB,
    ADD COLUMN parse_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN correlation_id TEXT,
    ADD COLUMN uploaded_at TIMESTAMPTZ,
    ADD COLUMN parsed_at TIMESTAMPTZ;
CREATE INDEX uploads_created_idx ON uploads (created_at DESC, id DESC);

ALTER TABLE activities
    ADD COLUMN activity_date DATE,
    ADD COLUMN period_start DATE,
    ADD COLUMN period_end DATE,
    ADD COLUMN category TEXT,
    ADD COLUMN geography TEXT,
    ADD COLUMN reference TEXT,
    -- Columns of the uploaded file that Scopeline does not interpret, kept as the user wrote them.
    ADD COLUMN extra JSONB,
    -- One activity per file row, ever: a re-parse after a crash can never duplicate rows.
    ADD CONSTRAINT activities_upload_row_unique UNIQUE (upload_id, row_number);
DROP INDEX activities_upload_idx;

-- Messages written in the same transaction as the state change that causes them, then relayed to
-- the queue: a crash can delay a message, never lose it or send it for a change that rolled back.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The embedded mode's queue, with SQS semantics: visibility timeout, receive count, dead letters.
CREATE TABLE queue_messages (
    id BIGSERIAL PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    visible_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease UUID,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX queue_messages_ready_idx ON queue_messages (queue, visible_at, id);

CREATE TABLE dead_letters (
    id BIGSERIAL PRIMARY KEY,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    last_error TEXT,
    first_enqueued_at TIMESTAMPTZ NOT NULL,
    dead_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_queue_idx ON dead_letters (queue, dead_at DESC);
