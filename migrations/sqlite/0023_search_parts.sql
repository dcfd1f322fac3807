-- The words a beginning stands for, read from the index's entries one word at a time: the 'row'
-- view of 0018 counts every ticket of each word it returns (22 ms for `ikke`, in most tickets),
-- while the 'instance' view reads a word's first entry only, so asking for the first word at or
-- after a point costs the same for a common word as for a rare one. Addresses are already
-- several words to FTS5 (`randi.bakken@…` is `randi` `bakken` …).
CREATE VIRTUAL TABLE tickets_terms USING fts5vocab(tickets_fts, 'instance');
DROP TABLE tickets_vocab;
