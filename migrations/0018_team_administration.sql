-- Team administration: accounts can be deactivated or deleted (kept for attribution, removed from
-- sign-in), record when they last signed in and who invited them, and invitations with single-use tokens.
ALTER TABLE users
    ADD COLUMN active BOOLEAN NOT NULL DEFAULT true,
    ADD COLUMN deleted_at TIMESTAMPTZ,
    ADD COLUMN last_sign_in_at TIMESTAMPTZ,
    ADD COLUMN invited_by UUID REFERENCES users(id),
    -- Tokens issued before this instant are refused (deactivation, deletion, password change), so
    -- reactivating an account does not bring its old sessions back.
    ADD COLUMN sessions_valid_after TIMESTAMPTZ;

-- A deleted account keeps its row (its uploads stay attributed to it) but frees its email.
ALTER TABLE users DROP CONSTRAINT users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE deleted_at IS NULL;

CREATE TABLE invitations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL CHECK (email ~* '^[^@]+@[^@]+\.[^@]+$'),
    role role NOT NULL,
    first_name TEXT,
    last_name TEXT,
    -- SHA-256 of the random token in the link; the token itself is never stored.
    token_hash TEXT NOT NULL UNIQUE,
    invited_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_at TIMESTAMPTZ,
    accepted_by UUID REFERENCES users(id),
    revoked_at TIMESTAMPTZ,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- The pending list and "is this email already invited?".
CREATE INDEX invitations_pending_idx ON invitations (email) WHERE accepted_at IS NULL AND revoked_at IS NULL;
