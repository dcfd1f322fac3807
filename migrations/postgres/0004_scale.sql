-- The log at a million tickets: a full-text index for search, and per-day counts for the filter
-- counts, kept up to date by a trigger.

-- Words of the subject, report text and reporter ('simple': no stemming, the text is Norwegian
-- and English mixed).
ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', subject || ' ' || body || ' ' || COALESCE(reporter, '') || ' ' ||
        COALESCE(reporter_name, ''))
) STORED;
CREATE INDEX tickets_search ON tickets USING GIN (search);

-- How many tickets each day has per status, class and municipality, and how many of them are urgent
-- or about privacy: the log's filter counts add up these rows instead of counting the tickets.
CREATE TABLE ticket_counts (
    day          DATE NOT NULL,           -- UTC day of created_at
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,           -- '' for none
    n            BIGINT NOT NULL,
    urgent       BIGINT NOT NULL,
    privacy      BIGINT NOT NULL,
    PRIMARY KEY (day, status, class, municipality)
);
INSERT INTO ticket_counts
    SELECT (created_at AT TIME ZONE 'UTC')::date, status, class, COALESCE(municipality, ''), COUNT(*),
        COUNT(*) FILTER (WHERE urgent), COUNT(*) FILTER (WHERE privacy)
    FROM tickets GROUP BY 1, 2, 3, 4;

-- The same without the day, for the log without dates.
CREATE TABLE ticket_totals (
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,
    n            BIGINT NOT NULL,
    urgent       BIGINT NOT NULL,
    privacy      BIGINT NOT NULL,
    PRIMARY KEY (status, class, municipality)
);
INSERT INTO ticket_totals
    SELECT status, class, COALESCE(municipality, ''), COUNT(*), COUNT(*) FILTER (WHERE urgent),
        COUNT(*) FILTER (WHERE privacy)
    FROM tickets GROUP BY 1, 2, 3;

CREATE FUNCTION ticket_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_counts SET n = n - 1, urgent = urgent - OLD.urgent::int, privacy = privacy - OLD.privacy::int
            WHERE day = (OLD.created_at AT TIME ZONE 'UTC')::date AND status = OLD.status AND class = OLD.class
            AND municipality = COALESCE(OLD.municipality, '');
        UPDATE ticket_totals SET n = n - 1, urgent = urgent - OLD.urgent::int, privacy = privacy - OLD.privacy::int
            WHERE status = OLD.status AND class = OLD.class AND municipality = COALESCE(OLD.municipality, '');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_counts VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, NEW.class,
            COALESCE(NEW.municipality, ''), 1, NEW.urgent::int, NEW.privacy::int)
            ON CONFLICT (day, status, class, municipality) DO UPDATE SET n = ticket_counts.n + 1,
                urgent = ticket_counts.urgent + EXCLUDED.urgent, privacy = ticket_counts.privacy + EXCLUDED.privacy;
        INSERT INTO ticket_totals VALUES (NEW.status, NEW.class, COALESCE(NEW.municipality, ''), 1,
            NEW.urgent::int, NEW.privacy::int)
            ON CONFLICT (status, class, municipality) DO UPDATE SET n = ticket_totals.n + 1,
                urgent = ticket_totals.urgent + EXCLUDED.urgent, privacy = ticket_totals.privacy + EXCLUDED.privacy;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_counts_insert_delete AFTER INSERT OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_counts_track();
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status, class, municipality, urgent, privacy ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_counts_track();

-- The rare flags, for the log filtered by them (the query writes `AND urgent`, as here).
CREATE INDEX tickets_urgent ON tickets (id, created_at) WHERE urgent;
CREATE INDEX tickets_privacy ON tickets (id, created_at) WHERE privacy;

-- Lookups that ran over the whole outbox: a reply's thread by our Message-ID, and the per-sender
-- limit on automatic replies.
CREATE INDEX outbox_message_id ON outbox (message_id);
CREATE INDEX outbox_to ON outbox (to_addrs, created_at);
