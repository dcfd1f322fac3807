-- Staff accounts: API tokens expire, sessions end when idle as well as at their absolute limit.

-- A token made before tokens had an expiry runs for 90 days from this migration.
ALTER TABLE users ADD COLUMN api_token_expires_at TIMESTAMPTZ;
UPDATE users SET api_token_expires_at = now() + interval '90 days' WHERE api_token IS NOT NULL;

-- When the session was last used (written at most once a minute), for the idle timeout.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_expires ON sessions (expires_at);
