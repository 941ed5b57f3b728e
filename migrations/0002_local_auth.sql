-- Local accounts for the embedded mode (AWS mode authenticates through Cognito instead),
-- the preferences GET /v1/me returns, and failed-login tracking for lockout.
ALTER TABLE users
    ADD COLUMN password_hash TEXT,
    ADD COLUMN marketing_opted_in BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN time_format SMALLINT NOT NULL DEFAULT 24 CHECK (time_format IN (12, 24)),
    ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- One row per failed attempt; the lockout window counts the recent ones. Kept in the database so
-- every server instance enforces the same limit.
CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    login TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_login_idx ON login_failures (login, failed_at);
