-- What the intake last reported of itself, shared by every instance: for alerts and `routedesk status`.
CREATE TABLE intake_status (
    mailbox       TEXT PRIMARY KEY,
    ok_at         TIMESTAMPTZ,                   -- the last IMAP step that succeeded
    failing_since TIMESTAMPTZ,                   -- the first failure since the last success
    last_error    TEXT NOT NULL DEFAULT '',
    updated_at    TIMESTAMPTZ NOT NULL
);

-- Conditions that keep routedesk from its job: one row from when each started until it ended. The
-- figures are kept up to date while it lasts, and rendered in each reader's language.
CREATE TABLE alerts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    ended_at     TIMESTAMPTZ,
    minutes      BIGINT  NOT NULL DEFAULT 0,
    count        BIGINT  NOT NULL DEFAULT 0,
    free_percent DOUBLE PRECISION,
    said         TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX alerts_active ON alerts (kind) WHERE ended_at IS NULL;

-- The newest mail in, and mail by state and age, for the checks that run every minute.
CREATE INDEX messages_in_received ON messages (received_at) WHERE direction = 'in';
CREATE INDEX outbox_status_created ON outbox (status, created_at);
