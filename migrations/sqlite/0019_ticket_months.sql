-- The per-day counts of 0004 summed by month: the log's filter counts over half a year of dates add
-- up six months' rows and the days at either end, not 180 days' (~11,000 rows at a million tickets).
CREATE TABLE ticket_months (
    month        TEXT NOT NULL,           -- YYYY-MM (UTC) of created_at
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,           -- '' for none
    n            INTEGER NOT NULL,
    urgent       INTEGER NOT NULL,
    privacy      INTEGER NOT NULL,
    PRIMARY KEY (month, status, class, municipality)
) WITHOUT ROWID;
INSERT INTO ticket_months
    SELECT substr(day, 1, 7), status, class, municipality, SUM(n), SUM(urgent), SUM(privacy)
    FROM ticket_counts GROUP BY 1, 2, 3, 4;

CREATE TRIGGER ticket_months_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_months VALUES (substr(NEW.created_at, 1, 7), NEW.status, NEW.class,
        COALESCE(NEW.municipality, ''), 1, NEW.urgent, NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
END;
CREATE TRIGGER ticket_months_update AFTER UPDATE OF status, class, municipality, urgent, privacy ON tickets BEGIN
    UPDATE ticket_months SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE month = substr(OLD.created_at, 1, 7) AND status = OLD.status AND class = OLD.class
        AND municipality = COALESCE(OLD.municipality, '');
    INSERT INTO ticket_months VALUES (substr(NEW.created_at, 1, 7), NEW.status, NEW.class,
        COALESCE(NEW.municipality, ''), 1, NEW.urgent, NEW.privacy)
        ON CONFLICT DO UPDATE SET n = n + 1, urgent = urgent + NEW.urgent, privacy = privacy + NEW.privacy;
END;
CREATE TRIGGER ticket_months_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_months SET n = n - 1, urgent = urgent - OLD.urgent, privacy = privacy - OLD.privacy
        WHERE month = substr(OLD.created_at, 1, 7) AND status = OLD.status AND class = OLD.class
        AND municipality = COALESCE(OLD.municipality, '');
END;
