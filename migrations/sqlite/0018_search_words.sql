-- The words the search index holds, so a search for a word's beginning can name the words it
-- stands for (`ikke*` → `ikke`): read straight from the index, always exact.
CREATE VIRTUAL TABLE tickets_vocab USING fts5vocab(tickets_fts, 'row');
