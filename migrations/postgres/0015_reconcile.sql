-- The periodic reconciliation of the mailbox with the ledger: each run, and the mail it found on
-- the server that routedesk has no record of (replaced by every run).
CREATE TABLE reconcile_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    scanned     BIGINT NOT NULL,
    unmatched   BIGINT NOT NULL,
    error       TEXT
);

CREATE TABLE reconcile_findings (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    folder      TEXT   NOT NULL,
    uid         BIGINT NOT NULL,
    message_id  TEXT,
    from_addr   TEXT,
    subject     TEXT   NOT NULL,
    received_at TIMESTAMPTZ,
    found_at    TIMESTAMPTZ NOT NULL
);

-- The helpdesk's automatic replies of the last hour, counted for its limit in all.
CREATE INDEX outbox_kind_created ON outbox (kind, created_at);

-- When the mailbox was last renumbered (a new UIDVALIDITY), for the alert.
ALTER TABLE mailbox_state ADD COLUMN renumbered_at TIMESTAMPTZ;

-- Replies held back by the limits in the last day, read by the alert checks every minute.
CREATE INDEX ticket_events_held ON ticket_events (at) WHERE kind = 'reply-suppressed';

-- Addresses mail to which bounced: no automatic reply goes to them until the block ends.
CREATE TABLE blocked_addresses (
    address TEXT PRIMARY KEY,
    until   TIMESTAMPTZ NOT NULL,
    reason  TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);
