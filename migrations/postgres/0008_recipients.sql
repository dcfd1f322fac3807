-- Outgoing mail keeps its recipients as a list: one row per address, never a comma-joined string
-- that is split again later (a list smuggled into one address must not become several recipients).
-- Counting automatic replies per single address uses the address index.
CREATE TABLE outbox_recipients (
    outbox_id BIGINT  NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL CHECK (role IN ('to', 'cc')),
    position  INTEGER NOT NULL,
    address   TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, role, position)
);
CREATE INDEX outbox_recipients_address ON outbox_recipients (address, outbox_id);

INSERT INTO outbox_recipients (outbox_id, role, position, address)
SELECT o.id, r.role, a.n, lower(trim(a.address))
FROM outbox o
CROSS JOIN LATERAL (VALUES ('to', o.to_addrs), ('cc', o.cc_addrs)) AS r (role, list)
CROSS JOIN LATERAL unnest(string_to_array(r.list, ',')) WITH ORDINALITY AS a (address, n)
WHERE trim(a.address) <> '';

DROP INDEX outbox_to;
ALTER TABLE outbox DROP COLUMN to_addrs;
ALTER TABLE outbox DROP COLUMN cc_addrs;
