-- Web security: API tokens expire, sessions end when idle, status updates are public only when
-- marked so, and an append-only audit log.

-- A token made before tokens had an expiry runs for 90 days from this migration.
ALTER TABLE users ADD COLUMN api_token_expires_at TEXT;
UPDATE users SET api_token_expires_at = strftime('%Y-%m-%d %H:%M:%f+00:00', 'now', '+90 days')
 WHERE api_token IS NOT NULL;

-- When the session was last used (written at most once a minute), for the idle timeout.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The public status page shows only updates staff marked public. Of the updates so far: staff
-- updates of a confirmed incident that name no ticket.
ALTER TABLE incident_updates ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
UPDATE incident_updates SET public = 1
 WHERE actor <> 'routedesk'
   AND status IN ('investigating', 'identified', 'monitoring', 'resolved')
   AND body NOT LIKE '%RD-%';

-- Who did what to what, append-only: sign-ins, refused access, views of reports, files and privacy
-- cases. Never a secret: no password or token, a failed sign-in's name only as a fingerprint.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,            -- `kari (helpdesk)`, or `name#1a2b3c4d5e6f` for a failed sign-in
    action  TEXT NOT NULL,            -- sign-in | refused | view-ticket | view-file | view-privacy
    object  TEXT NOT NULL,            -- a ticket or case number, a file, or ''
    result  TEXT NOT NULL,            -- ok | failed | throttled | busy | hidden
    address TEXT                      -- the client's address
);
CREATE INDEX audit_log_at ON audit_log (at);
-- The database itself refuses to change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
