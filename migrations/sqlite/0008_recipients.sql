-- Outgoing mail keeps its recipients as a list: one row per address, never a comma-joined string
-- that is split again later (a list smuggled into one address must not become several recipients).
-- Counting automatic replies per single address uses the address index.
CREATE TABLE outbox_recipients (
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL CHECK (role IN ('to', 'cc')),
    position  INTEGER NOT NULL,
    address   TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, role, position)
);
CREATE INDEX outbox_recipients_address ON outbox_recipients (address, outbox_id);

WITH RECURSIVE pieces (outbox_id, role, position, address, rest) AS (
    SELECT id, 'to', 0, '', to_addrs || ',' FROM outbox
    UNION ALL
    SELECT id, 'cc', 0, '', cc_addrs || ',' FROM outbox
    UNION ALL
    SELECT outbox_id, role, position + 1, trim(substr(rest, 1, instr(rest, ',') - 1)),
           substr(rest, instr(rest, ',') + 1)
    FROM pieces WHERE rest <> ''
)
INSERT INTO outbox_recipients (outbox_id, role, position, address)
SELECT outbox_id, role, position, lower(address) FROM pieces WHERE position > 0 AND address <> '';

DROP INDEX outbox_to;
ALTER TABLE outbox DROP COLUMN to_addrs;
ALTER TABLE outbox DROP COLUMN cc_addrs;
