-- Reports of the same fault: a group of tickets, which becomes a suspected incident when enough
-- users in enough municipalities report it, and which staff confirm, split or dismiss.

CREATE TABLE incidents (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,     -- INC-2026-0001
    title       TEXT NOT NULL,
    state       TEXT NOT NULL,            -- group | suspected | confirmed | dismissed
    status      TEXT,                     -- confirmed: investigating | identified | monitoring | resolved
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX incidents_state ON incidents (state, id DESC);

-- The incident's timeline: state changes and staff updates, as on the vendor's status page.
CREATE TABLE incident_updates (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, id);

ALTER TABLE tickets ADD COLUMN incident_id BIGINT REFERENCES incidents (id);
-- The vendor products a report names (policy names, comma-separated), for grouping.
ALTER TABLE tickets ADD COLUMN products TEXT NOT NULL DEFAULT '';
-- Partial: most tickets are in no incident, and planner statistics must not count them.
CREATE INDEX tickets_incident ON tickets (incident_id) WHERE incident_id IS NOT NULL;
-- A known issue on the vendor's status page when the report came in (title, stage, link).
ALTER TABLE tickets ADD COLUMN vendor_issue TEXT;
