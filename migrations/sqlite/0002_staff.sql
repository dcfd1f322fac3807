-- Staff accounts, sign-in sessions, links between tickets, and the searchable text of a report.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,          -- admin | helpdesk | municipal
    municipality  TEXT,                   -- for municipal users
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    api_token     TEXT UNIQUE,            -- SHA-256 of the token, for the JSON API
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,          -- SHA-256 of the cookie value
    user_id    INTEGER NOT NULL REFERENCES users (id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE ticket_links (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    other_id  INTEGER NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (ticket_id, other_id)
);

ALTER TABLE tickets ADD COLUMN body TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_status ON tickets (status, id DESC);
CREATE INDEX tickets_class ON tickets (class, id DESC);
CREATE INDEX tickets_municipality ON tickets (municipality, id DESC);
