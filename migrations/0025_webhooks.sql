-- Webhooks: where events are delivered, and each delivery (the outbox of this channel). A delivery is
-- written in the transaction of the change it announces, then sent by the workers, retried with
-- backoff and, after the last retry, kept as dead for an operator to replay.
CREATE TABLE webhooks (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    url TEXT NOT NULL CHECK (url ~ '^https?://'),
    events TEXT[] NOT NULL CHECK (cardinality(events) >= 1),
    -- The signing key: needed to sign each delivery, so it is kept (never returned after creation).
    secret TEXT NOT NULL,
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at TIMESTAMPTZ
);

CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id UUID NOT NULL REFERENCES webhooks(id),
    event_type TEXT NOT NULL,
    -- What makes two events the same one (e.g. site, period and threshold): repeats within 5 minutes are dropped.
    event_key TEXT NOT NULL,
    -- The exact bytes that are sent and signed.
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Also the lease of a claimed delivery: a worker that dies mid-send leaves it due again.
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_status INTEGER,
    last_error TEXT,
    correlation_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    delivered_at TIMESTAMPTZ
);
-- The senders' claim: due deliveries, oldest first.
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'queued';
-- "Was this event already queued for this webhook in the last 5 minutes?"
CREATE INDEX webhook_deliveries_dedupe_idx ON webhook_deliveries (webhook_id, event_key, created_at);
-- The dead deliveries on the operations page.
CREATE INDEX webhook_deliveries_dead_idx ON webhook_deliveries (created_at) WHERE status = 'dead';

-- One row per attempt, for the per-webhook rate limit (attempts in the last minute).
CREATE TABLE webhook_attempts (
    webhook_id UUID NOT NULL REFERENCES webhooks(id),
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_idx ON webhook_attempts (webhook_id, attempted_at);
