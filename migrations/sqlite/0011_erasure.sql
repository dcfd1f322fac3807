-- Retention of tickets never resolved, and data that is gone once removed: a purge or an erasure
-- leaves no copy behind in the search index (the file's freed pages are overwritten as well, by
-- `PRAGMA secure_delete`, set on every connection).

-- The search index again, now removing a ticket's old words with the values they were indexed from
-- (the index's `delete` command): in secure-delete mode they leave the index's pages at once. The
-- index of 0004 could only mark a ticket deleted and kept its words until the index was next merged.
DROP TRIGGER tickets_fts_insert;
DROP TRIGGER tickets_fts_update;
DROP TRIGGER tickets_fts_delete;
DROP TABLE tickets_fts;
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    fts_subject, fts_body, fts_reporter,
    content = '', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO tickets_fts (tickets_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
    SELECT id, subject, body, COALESCE(reporter, '') || ' ' || COALESCE(reporter_name, '') FROM tickets;

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
        VALUES (NEW.id, NEW.subject, NEW.body, COALESCE(NEW.reporter, '') || ' ' || COALESCE(NEW.reporter_name, ''));
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, body, reporter, reporter_name ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, fts_subject, fts_body, fts_reporter)
        VALUES ('delete', OLD.id, OLD.subject, OLD.body, COALESCE(OLD.reporter, '') || ' ' || COALESCE(OLD.reporter_name, ''));
    INSERT INTO tickets_fts (rowid, fts_subject, fts_body, fts_reporter)
        VALUES (NEW.id, NEW.subject, NEW.body, COALESCE(NEW.reporter, '') || ' ' || COALESCE(NEW.reporter_name, ''));
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, fts_subject, fts_body, fts_reporter)
        VALUES ('delete', OLD.id, OLD.subject, OLD.body, COALESCE(OLD.reporter, '') || ' ' || COALESCE(OLD.reporter_name, ''));
END;

-- The tickets never resolved that a retention run looks for (its query repeats this condition).
CREATE INDEX tickets_open_unpurged ON tickets (updated_at) WHERE status <> 'resolved' AND purged_at IS NULL;

-- The mail about suspected incidents (few), which a purge searches for the reports it lists.
CREATE INDEX outbox_incident ON outbox (id) WHERE kind = 'incident';
