-- What the intake last reported of itself, shared by every instance: for alerts and `routedesk status`.
CREATE TABLE intake_status (
    mailbox       TEXT PRIMARY KEY,
    ok_at         TEXT,                    -- the last IMAP step that succeeded
    failing_since TEXT,                    -- the first failure since the last success
    last_error    TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL
);

-- Conditions that keep routedesk from its job: one row from when each started until it ended. The
-- figures are kept up to date while it lasts, and rendered in each reader's language.
CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    ended_at     TEXT,
    minutes      INTEGER NOT NULL DEFAULT 0,
    count        INTEGER NOT NULL DEFAULT 0,
    free_percent REAL,
    said         TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_active ON alerts (kind) WHERE ended_at IS NULL;

-- The newest mail in, and mail by state and age, for the checks that run every minute.
CREATE INDEX messages_in_received ON messages (received_at) WHERE direction = 'in';
CREATE INDEX outbox_status_created ON outbox (status, created_at);
