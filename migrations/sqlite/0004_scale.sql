-- The log at a million tickets: a full-text index for search, and per-day counts for the filter
-- counts, both kept up to date by triggers.

-- Words of the subject, report text and reporter. Contentless: the text lives in `tickets`; its
-- columns are named apart from `tickets`' so the two can be joined without ambiguity.
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    fts_subject, fts_body, fts_reporter,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
    SELECT id, subject, body, COALESCE(reporter, '') || ' ' || COALESCE(reporter_name, '') FROM tickets;

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
        VALUES (NEW.id, NEW.subject, NEW.body, COALESCE(NEW.reporter, '') || ' ' || COALESCE(NEW.reporter_name, ''));
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, body, reporter, reporter_name ON tickets BEGIN
    DELETE FROM tickets_fts WHERE rowid = OLD.id;
    INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
        VALUES (NEW.id, NEW.subject, NEW.body, COALESCE(NEW.reporter, '') || ' ' || COALESCE(NEW.reporter_name, ''));
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM tickets_fts WHERE rowid = OLD.id;
END;

-- How many tickets each day has per status, class and municipality, and how many of them are urgent
-- or about privacy: the log's filter counts add up these rows instead of counting the tickets.
CREATE TABLE ticket_counts (
    day          TEXT NOT NULL,           -- YYYY-MM-DD (UTC) of created_at
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,           -- '' for none
    n            INTEGER NOT NULL,
    urgent       INTEGER NOT NULL,
    privacy      INTEGER NOT NULL,
    PRIMARY KEY (day, status, class, municipality)
) WITHOUT ROWID;
INSERT INTO ticket_counts
    SELECT substr(created_at, 1, 10), status, class, COALESCE(municipality, ''), COUNT(*), SUM(urgent), SUM(privacy)
    FROM tickets GROUP BY 1, 2, 3, 4;

-- The same without the day, for the log without dates.
CREATE TABLE ticket_totals (
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,
    n            INTEGER NOT NULL,
    urgent       INTEGER NOT NULL,
    privacy      INTEGER NOT NULL,
    PRIMARY KEY (status, class, municipality)
) WITHOUT ROWID;
INSERT INTO ticket_totals
    SELECT status, class, COALESCE(municipality, ''), COUNT(*), SUM(urgent), SUM(privacy) FROM tickets GROUP BY 1, 2, 3;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_counts VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.class,
        COALESCE(NEW.municipality, ''), 1, NEW.urgent, NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
    INSERT INTO ticket_totals VALUES (NEW.status, NEW.class, COALESCE(NEW.municipality, ''), 1, NEW.urgent,
        NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
END;
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status, class, municipality, urgent, privacy ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status AND class = OLD.class
        AND municipality = COALESCE(OLD.municipality, '');
    UPDATE ticket_totals SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE status = OLD.status AND class = OLD.class AND municipality = COALESCE(OLD.municipality, '');
    INSERT INTO ticket_counts VALUES (substr(NEW.created_at, 1, 10), NEW.status, NEW.class,
        COALESCE(NEW.municipality, ''), 1, NEW.urgent, NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
    INSERT INTO ticket_totals VALUES (NEW.status, NEW.class, COALESCE(NEW.municipality, ''), 1, NEW.urgent,
        NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
END;
CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE day = substr(OLD.created_at, 1, 10) AND status = OLD.status AND class = OLD.class
        AND municipality = COALESCE(OLD.municipality, '');
    UPDATE ticket_totals SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE status = OLD.status AND class = OLD.class AND municipality = COALESCE(OLD.municipality, '');
END;

-- The rare flags, for the log filtered by them (the query writes `AND urgent`, as here).
CREATE INDEX tickets_urgent ON tickets (id, created_at) WHERE urgent;
CREATE INDEX tickets_privacy ON tickets (id, created_at) WHERE privacy;

-- Lookups that ran over the whole outbox: a reply's thread by our Message-ID, and the per-sender
-- limit on automatic replies.
CREATE INDEX outbox_message_id ON outbox (message_id);
CREATE INDEX outbox_to ON outbox (to_addrs, created_at);
