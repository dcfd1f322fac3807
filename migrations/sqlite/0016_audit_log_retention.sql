-- The audit log is kept for the retention policy's `audit_log_days`. The retention job records its
-- cut here and removes older entries in the same transaction; every other change is refused.
CREATE TABLE audit_log_cut (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    purge_before TEXT NOT NULL
);
INSERT INTO audit_log_cut (id, purge_before) VALUES (1, '');
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.at >= (SELECT purge_before FROM audit_log_cut WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
