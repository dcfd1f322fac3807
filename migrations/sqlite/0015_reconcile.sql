-- The periodic reconciliation of the mailbox with the ledger: each run, and the mail it found on
-- the server that routedesk has no record of (replaced by every run).
CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT    NOT NULL,
    finished_at TEXT    NOT NULL,
    scanned     INTEGER NOT NULL,
    unmatched   INTEGER NOT NULL,
    error       TEXT
);

CREATE TABLE reconcile_findings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    folder      TEXT    NOT NULL,
    uid         INTEGER NOT NULL,
    message_id  TEXT,
    from_addr   TEXT,
    subject     TEXT    NOT NULL,
    received_at TEXT,
    found_at    TEXT    NOT NULL
);

-- The helpdesk's automatic replies of the last hour, counted for its limit in all.
CREATE INDEX outbox_kind_created ON outbox (kind, created_at);

-- When the mailbox was last renumbered (a new UIDVALIDITY), for the alert.
ALTER TABLE mailbox_state ADD COLUMN renumbered_at TEXT;

-- Replies held back by the limits in the last day, read by the alert checks every minute.
CREATE INDEX ticket_events_held ON ticket_events (at) WHERE kind = 'reply-suppressed';

-- Addresses mail to which bounced: no automatic reply goes to them until the block ends.
CREATE TABLE blocked_addresses (
    address TEXT PRIMARY KEY,
    until   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      TEXT NOT NULL
);
