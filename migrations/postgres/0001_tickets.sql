-- routedesk schema, PostgreSQL.

CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

CREATE TABLE tickets (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    status        TEXT NOT NULL,
    class         TEXT NOT NULL,
    confidence    DOUBLE PRECISION NOT NULL,
    municipality  TEXT,
    urgent BOOLEAN NOT NULL,
    privacy BOOLEAN NOT NULL,
    missing       TEXT NOT NULL,
    subject       TEXT NOT NULL,
    reporter      TEXT,
    reporter_name TEXT,
    route_to      TEXT NOT NULL,
    route_cc      TEXT NOT NULL,
    reasons       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_created ON tickets (created_at DESC, id DESC);

-- Every mail that reached the mailbox or left routedesk, raw, whatever became of it.
CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT REFERENCES tickets (id),
    direction   TEXT NOT NULL,            -- in | out
    dedup_key   TEXT NOT NULL UNIQUE,     -- Message-ID plus content hash (inbound), out:Message-ID (outbound)
    message_id  TEXT,
    verdict     TEXT NOT NULL,            -- ticket | reply | ignored | quarantined | outbound
    reason      TEXT,
    from_addr   TEXT,
    subject     TEXT NOT NULL,
    mailbox     TEXT,
    uidvalidity BIGINT,
    uid         BIGINT,
    size        BIGINT NOT NULL,
    raw         BYTEA NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id);
CREATE INDEX messages_message_id ON messages (message_id);

CREATE TABLE attachments (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    ticket_id    BIGINT REFERENCES tickets (id),
    filename     TEXT,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    width        BIGINT,
    height       BIGINT,
    screenshot BOOLEAN NOT NULL,
    inline BOOLEAN NOT NULL,
    data         BYTEA NOT NULL
);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

-- Append-only audit trail.
CREATE TABLE ticket_events (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at TIMESTAMPTZ NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

CREATE TABLE mailbox_state (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       BIGINT REFERENCES tickets (id),
    kind            TEXT NOT NULL,        -- routing | acknowledgement | request-info
    message_id      TEXT NOT NULL UNIQUE, -- fixed for every retry
    envelope_from   TEXT NOT NULL,        -- empty: null sender (automatic replies, RFC 3834)
    to_addrs        TEXT NOT NULL,        -- comma-separated
    cc_addrs        TEXT NOT NULL,
    in_reply_to     TEXT,                 -- the report's Message-ID
    report_message  BIGINT REFERENCES messages (id),  -- attach the report and its files
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,        -- queued | sent | failed | dry-run
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_error      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_ticket ON outbox (ticket_id);
