-- The queued mail alone, in the order it goes out: a claim walks it from its start and stops at
-- the batch it takes, where the index it replaces held every status. A mail that is sent leaves
-- this index and adds nothing to it.
CREATE INDEX outbox_queued ON outbox (id) WHERE status = 'queued';
DROP INDEX outbox_due;
-- The unique constraint's index finds a mail by its Message-ID; this one was written for every
-- mail besides. (`tickets_incident` stays here: SQLite reads an incident's tickets in id order
-- from it.)
DROP INDEX outbox_message_id;
