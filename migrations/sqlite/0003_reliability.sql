-- Leases (one intake per mailbox across instances, and each instance's heartbeat), instance-wide settings (the Message-ID key),
-- and the sender-authentication verdict of a report.

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

ALTER TABLE tickets ADD COLUMN auth_result TEXT;

-- The instance that claimed an outgoing mail: when its heartbeat lease runs out, the mail is free again.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
