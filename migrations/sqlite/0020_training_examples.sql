-- What staff corrected, kept as training examples for the classifier: the report's features (its
-- words as the model reads them; the text itself stays with the ticket, purged with it by
-- retention), the label staff gave, who and when. An undone correction stays listed but no
-- longer trains. `kind` is what was corrected: class, privacy or municipality.
CREATE TABLE training_examples (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    label        TEXT NOT NULL,
    features     TEXT NOT NULL,
    actor        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    undone_at    TEXT,
    undone_by    TEXT
);
CREATE INDEX training_examples_ticket ON training_examples (ticket_id);
