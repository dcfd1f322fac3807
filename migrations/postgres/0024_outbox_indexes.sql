-- The queued mail alone, in the order it goes out: a claim walks it from its start and stops at
-- the batch it takes. The index it replaces held every status, and an entry for each old version
-- of a mail until a vacuum (its status changes when it is sent), all of which a claim's bitmap
-- scan visited. A mail that is sent leaves this index and adds nothing to it.
CREATE INDEX outbox_queued ON outbox (id) WHERE status = 'queued';
DROP INDEX outbox_due;
-- Indexes that others cover, written for every mail (and every change of it) or every ticket in an
-- incident: the unique constraint's index finds a mail by its Message-ID, and
-- `tickets_incident_municipality` begins with the incident.
DROP INDEX outbox_message_id;
DROP INDEX tickets_incident;
