-- Privacy incidents (the vendor's process, seed 002; GDPR art. 33): one per ticket flagged
-- `privacy`, with its stage, coordinator, the 72-hour notification deadline and the incident report.

CREATE TABLE privacy_incidents (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number                TEXT NOT NULL UNIQUE,      -- PRV-2026-0001
    ticket_id             BIGINT NOT NULL UNIQUE REFERENCES tickets (id),
    stage                 TEXT NOT NULL,             -- alert-received | assessing | review | closed
    coordinator           TEXT,                      -- a staff username
    recorded_at           TIMESTAMPTZ NOT NULL,
    deadline_at           TIMESTAMPTZ NOT NULL,             -- recorded_at + 72 hours
    warned_at             TIMESTAMPTZ,                      -- when the coordinator was warned of the deadline
    authority_notified_at TIMESTAMPTZ,                      -- when the data-protection authority was notified
    timeline              TEXT NOT NULL DEFAULT '',
    root_cause            TEXT NOT NULL DEFAULT '',
    data_subjects         TEXT NOT NULL DEFAULT '',
    personal_data         TEXT NOT NULL DEFAULT '',
    mitigation            TEXT NOT NULL DEFAULT '',
    crisis                BOOLEAN NOT NULL DEFAULT FALSE,
    controller            TEXT NOT NULL DEFAULT '',
    review_note           TEXT NOT NULL DEFAULT '',
    closed_at             TIMESTAMPTZ,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX privacy_incidents_open ON privacy_incidents (stage, deadline_at);

-- A staff member's address, for mail to them (the privacy coordinator's deadline warning).
ALTER TABLE users ADD COLUMN email TEXT;
