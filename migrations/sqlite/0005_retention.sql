-- Data retention: when a ticket's personal data was removed, and a record of every retention run.

ALTER TABLE tickets ADD COLUMN purged_at TEXT;
-- The tickets a retention run looks for (its query repeats this condition).
CREATE INDEX tickets_unpurged ON tickets (updated_at) WHERE status = 'resolved' AND purged_at IS NULL;

CREATE TABLE purge_runs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    tickets  INTEGER NOT NULL,
    messages INTEGER NOT NULL,
    detail   TEXT NOT NULL
);
