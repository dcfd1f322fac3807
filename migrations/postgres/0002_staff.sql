-- Staff accounts, sign-in sessions, links between tickets, and the searchable text of a report.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,          -- admin | helpdesk | municipal
    municipality  TEXT,                   -- for municipal users
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    api_token     TEXT UNIQUE,            -- SHA-256 of the token, for the JSON API
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,          -- SHA-256 of the cookie value
    user_id    BIGINT NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE ticket_links (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    other_id  BIGINT NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (ticket_id, other_id)
);

ALTER TABLE tickets ADD COLUMN body TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_status ON tickets (status, id DESC);
CREATE INDEX tickets_class ON tickets (class, id DESC);
CREATE INDEX tickets_municipality ON tickets (municipality, id DESC);
