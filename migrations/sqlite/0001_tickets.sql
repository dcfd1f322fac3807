-- routedesk schema, SQLite. Times are RFC 3339 UTC text; booleans are 0/1.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    number        TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    class         TEXT NOT NULL,
    confidence    REAL NOT NULL,
    municipality  TEXT,
    urgent        INTEGER NOT NULL,
    privacy       INTEGER NOT NULL,
    missing       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    reporter      TEXT,
    reporter_name TEXT,
    route_to      TEXT NOT NULL,
    route_cc      TEXT NOT NULL,
    reasons       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);

-- Every mail that reached the mailbox or left routedesk, raw, whatever became of it.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER REFERENCES tickets (id),
    direction   TEXT NOT NULL,            -- in | out
    dedup_key   TEXT NOT NULL UNIQUE,     -- Message-ID plus content hash (inbound), out:Message-ID (outbound)
    message_id  TEXT,
    verdict     TEXT NOT NULL,            -- ticket | reply | ignored | quarantined | outbound
    reason      TEXT,
    from_addr   TEXT,
    subject     TEXT NOT NULL,
    mailbox     TEXT,
    uidvalidity INTEGER,
    uid         INTEGER,
    size        INTEGER NOT NULL,
    raw         BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id);
CREATE INDEX messages_message_id ON messages (message_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    ticket_id    INTEGER REFERENCES tickets (id),
    filename     TEXT,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER,
    height       INTEGER,
    screenshot   INTEGER NOT NULL,
    inline       INTEGER NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

-- Append-only audit trail.
CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE mailbox_state (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id       INTEGER REFERENCES tickets (id),
    kind            TEXT NOT NULL,        -- routing | acknowledgement | request-info
    message_id      TEXT NOT NULL UNIQUE, -- fixed for every retry
    envelope_from   TEXT NOT NULL,        -- empty: null sender (automatic replies, RFC 3834)
    to_addrs        TEXT NOT NULL,        -- comma-separated
    cc_addrs        TEXT NOT NULL,
    in_reply_to     TEXT,                 -- the report's Message-ID
    report_message  INTEGER REFERENCES messages (id),  -- attach the report and its files
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,        -- queued | sent | failed | dry-run
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);
