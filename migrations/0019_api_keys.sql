-- Machine clients (devices, integrations): keys an admin creates, each with the scopes it may use and
-- optionally the sites it may write to. Only the SHA-256 of a key is stored; the key is shown once.
CREATE TABLE api_keys (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- The key's first characters, so a person can tell keys apart without the secret.
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    scopes TEXT[] NOT NULL CHECK (cardinality(scopes) >= 1),
    -- NULL: every site; otherwise only these.
    site_ids UUID[],
    created_by UUID NOT NULL REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
