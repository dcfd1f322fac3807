-- A mail claimed by a sender that stopped before recording how its attempt ended (a crash, or a
-- stall past its lease) may have reached the server already: it is sent again with the same
-- Message-ID, and marked so that staff can see a recipient may have it twice.
ALTER TABLE outbox ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;
