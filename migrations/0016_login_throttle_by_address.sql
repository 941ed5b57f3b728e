-- Sign-in throttling counts failures by where they come from as well as by login (see
-- features/accounts/LoginThrottle.ts): a stranger's wrong guesses from one address must not lock the
-- owner out of the account from another. Rows from before this migration get the address 'unknown'.
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT 'unknown';
CREATE INDEX login_failures_address_idx ON login_failures (address, failed_at);
