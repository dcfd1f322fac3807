-- The per-sender reply limit counts the automatic replies to one address in the last hour. An
-- address that also receives routing mail has thousands of rows; each recipient row of an
-- automatic reply carries the reply's time, so the count reads only that address's replies.
ALTER TABLE outbox_recipients ADD COLUMN reply_at TEXT;

UPDATE outbox_recipients SET reply_at = (
    SELECT o.created_at FROM outbox o
    WHERE o.id = outbox_recipients.outbox_id AND o.kind IN ('acknowledgement', 'request-info')
);

CREATE INDEX outbox_recipients_replies ON outbox_recipients (address, reply_at) WHERE reply_at IS NOT NULL;
