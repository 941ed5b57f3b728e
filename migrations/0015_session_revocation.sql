-- Signing out revokes the session's token on the server, not only in the browser that held it: a copy
-- of the cookie or a bearer token taken earlier is refused from then on. Tokens are stateless JWTs,
-- so the server keeps the ids (`jti`) of the revoked ones until they would have expired anyway; after
-- that the signature check refuses them and the row is useless (rows past `expires_at` are deleted
-- whenever a token is revoked, which keeps the table as small as the number of live sessions).
CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);
