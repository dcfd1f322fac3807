-- Web security: API tokens expire, sessions end when idle, status updates are public only when
-- marked so.

-- A token made before tokens had an expiry runs for 90 days from this migration.
ALTER TABLE users ADD COLUMN api_token_expires_at TIMESTAMPTZ;
UPDATE users SET api_token_expires_at = now() + interval '90 days' WHERE api_token IS NOT NULL;

-- When the session was last used (written at most once a minute), for the idle timeout.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The public status page shows only updates staff marked public. Of the updates so far: staff
-- updates of a confirmed incident that name no ticket.
ALTER TABLE incident_updates ADD COLUMN public BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE incident_updates SET public = TRUE
 WHERE actor <> 'routedesk'
   AND status IN ('investigating', 'identified', 'monitoring', 'resolved')
   AND body NOT LIKE '%RD-%';
