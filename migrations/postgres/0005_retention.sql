-- Data retention: when a ticket's personal data was removed, and a record of every retention run.

ALTER TABLE tickets ADD COLUMN purged_at TIMESTAMPTZ;
-- The tickets a retention run looks for (its query repeats this condition).
CREATE INDEX tickets_unpurged ON tickets (updated_at) WHERE status = 'resolved' AND purged_at IS NULL;

CREATE TABLE purge_runs (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       TIMESTAMPTZ NOT NULL,
    actor    TEXT NOT NULL,
    tickets  BIGINT NOT NULL,
    messages BIGINT NOT NULL,
    detail   TEXT NOT NULL
);
