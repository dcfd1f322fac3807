-- The audit log is kept for the retention policy's `audit_log_days`. The retention job records its
-- cut here and removes older entries in the same transaction; every other change is refused.
CREATE TABLE audit_log_cut (
    id           INT PRIMARY KEY CHECK (id = 1),
    purge_before TIMESTAMPTZ NOT NULL
);
INSERT INTO audit_log_cut (id, purge_before) VALUES (1, '-infinity');
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.at < (SELECT purge_before FROM audit_log_cut WHERE id = 1) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
