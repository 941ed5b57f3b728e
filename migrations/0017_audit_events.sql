-- One canonical, append-only log of every security, business, system and delivery event.
-- `seq` orders the log for reading (newest first, keyset); `event_id` is the event's own identity.
CREATE TABLE audit_events (
    seq BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL UNIQUE,
    occurred_at TIMESTAMPTZ NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('business', 'system', 'delivery', 'security')),
    action TEXT NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]{0,63}$'),
    -- No foreign key: the log outlives and never blocks changes to what it describes.
    actor_user_id UUID,
    actor_email_hash TEXT,
    actor_role TEXT,
    actor_service TEXT,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    trace_id TEXT,
    parent_event_id UUID,
    outcome_status TEXT NOT NULL CHECK (outcome_status IN ('success', 'failure', 'pending')),
    outcome_error_code TEXT,
    outcome_message TEXT,
    context JSONB NOT NULL,
    details JSONB NOT NULL DEFAULT '{}'::jsonb,
    schema_version INTEGER NOT NULL
);

-- The reading filters (GET /v1/admin/audit-events), each with `seq` for the newest-first keyset.
CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, seq) WHERE actor_user_id IS NOT NULL;
CREATE INDEX audit_events_object_idx ON audit_events (object_id, seq);
CREATE INDEX audit_events_correlation_idx ON audit_events (correlation_id, seq);
CREATE INDEX audit_events_action_idx ON audit_events (category, action, seq);
-- The retention job deletes by age.
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

-- Append-only: UPDATE, TRUNCATE and DELETE are refused, except the retention job's DELETE of rows
-- older than the retention it declares for its own transaction (SET LOCAL scopeline.audit_retention_days).
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    retention_days INTEGER;
BEGIN
    IF TG_OP = 'DELETE' THEN
        retention_days := NULLIF(current_setting('scopeline.audit_retention_days', true), '')::integer;
        IF retention_days IS NOT NULL AND retention_days >= 1
           AND OLD.occurred_at < now() - make_interval(days => retention_days) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Keys the application generates once and every process shares (e.g. the key of email hashes in
-- the audit log), so the embedded mode and a fleet of containers need no set-up.
CREATE TABLE app_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
