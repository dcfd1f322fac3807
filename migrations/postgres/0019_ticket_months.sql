-- The per-day counts of 0004 summed by month: the log's filter counts over half a year of dates add
-- up six months' rows and the days at either end, not 180 days' (~11,000 rows at a million tickets).
CREATE TABLE ticket_months (
    month        DATE NOT NULL,           -- first day of the UTC month of created_at
    status       TEXT NOT NULL,
    class        TEXT NOT NULL,
    municipality TEXT NOT NULL,           -- '' for none
    n            BIGINT NOT NULL,
    urgent       BIGINT NOT NULL,
    privacy      BIGINT NOT NULL,
    PRIMARY KEY (month, status, class, municipality)
);
INSERT INTO ticket_months
    SELECT date_trunc('month', day)::date, status, class, municipality, SUM(n), SUM(urgent), SUM(privacy)
    FROM ticket_counts GROUP BY 1, 2, 3, 4;

CREATE FUNCTION ticket_months_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_months SET n = n - 1, urgent = urgent - OLD.urgent::int, privacy = privacy - OLD.privacy::int
            WHERE month = date_trunc('month', OLD.created_at AT TIME ZONE 'UTC')::date AND status = OLD.status
            AND class = OLD.class AND municipality = COALESCE(OLD.municipality, '');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_months VALUES (date_trunc('month', NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status,
            NEW.class, COALESCE(NEW.municipality, ''), 1, NEW.urgent::int, NEW.privacy::int)
            ON CONFLICT (month, status, class, municipality) DO UPDATE SET n = ticket_months.n + 1,
                urgent = ticket_months.urgent + EXCLUDED.urgent, privacy = ticket_months.privacy + EXCLUDED.privacy;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_months_insert_delete AFTER INSERT OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_months_track();
CREATE TRIGGER ticket_months_update AFTER UPDATE OF status, class, municipality, urgent, privacy ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_months_track();
