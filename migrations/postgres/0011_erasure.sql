-- Retention of tickets never resolved.

-- The tickets never resolved that a retention run looks for (its query repeats this condition).
CREATE INDEX tickets_open_unpurged ON tickets (updated_at) WHERE status <> 'resolved' AND purged_at IS NULL;

-- The mail about suspected incidents (few), which a purge searches for the reports it lists.
CREATE INDEX outbox_incident ON outbox (id) WHERE kind = 'incident';
