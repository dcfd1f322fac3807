-- The vendor case of an application fault (the routine's second half): asked for in the routing
-- mail, its number recorded from a contact's reply or the web view, reported "open for all in the
-- region", one reminder without a number, and resolved. One per ticket.
CREATE TABLE vendor_cases (
    ticket_id      BIGINT PRIMARY KEY REFERENCES tickets (id),
    asked_at       TIMESTAMPTZ NOT NULL,
    case_number    TEXT,
    recorded_at    TIMESTAMPTZ,
    recorded_by    TEXT,
    open_to_region BOOLEAN NOT NULL DEFAULT FALSE,
    reminded_at    TIMESTAMPTZ,
    resolved_at    TIMESTAMPTZ,
    resolved_by    TEXT
);
CREATE INDEX vendor_cases_number ON vendor_cases (case_number) WHERE case_number IS NOT NULL;
-- The reminder job's question: asked, still without a number, not reminded, not resolved.
CREATE INDEX vendor_cases_waiting ON vendor_cases (asked_at)
    WHERE case_number IS NULL AND reminded_at IS NULL AND resolved_at IS NULL;

-- A contact's question for the reporter is open until the reporter answers (the answer goes on to
-- the contacts).
ALTER TABLE tickets ADD COLUMN question_at TIMESTAMPTZ;

-- The privacy case's "alert the vendor" step and the vendor's answer.
ALTER TABLE privacy_incidents ADD COLUMN vendor_alerted_at TIMESTAMPTZ;
ALTER TABLE privacy_incidents ADD COLUMN vendor_answer TEXT NOT NULL DEFAULT '';
ALTER TABLE privacy_incidents ADD COLUMN vendor_answered_at TIMESTAMPTZ;
