-- An incident's size (its reports and their municipalities) is counted for every report that
-- joins it: read from this index alone, not from each ticket's row.
CREATE INDEX tickets_incident_municipality ON tickets (incident_id, municipality) WHERE incident_id IS NOT NULL;

-- A new report is compared with the newest open tickets: found and read from this index alone
-- (the status in it too, as SQLite reads the query's condition on it from the index's columns).
CREATE INDEX tickets_open_recent ON tickets (created_at DESC, id DESC, incident_id, status) WHERE status <> 'resolved';
