-- An address as its parts, as SQLite's index keeps it: the 'simple' parser keeps
-- `randi.bakken@gjovik.kommune.no` as one word, so a search for `randi` had to name every address
-- beginning so (101 words at a million tickets). Dots and at signs become breaks before the text
-- is parsed, here and in a search's words (`randi.bakken` is then the phrase `randi <-> bakken`).
DROP TRIGGER tickets_words_changed ON tickets;
ALTER TABLE tickets DROP COLUMN search;
ALTER TABLE tickets ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', translate(subject || ' ' || body || ' ' || COALESCE(reporter, '') || ' ' ||
        COALESCE(reporter_name, ''), '.@', '  '))
) STORED;
CREATE INDEX tickets_search ON tickets USING GIN (search);
CREATE TRIGGER tickets_words_changed AFTER UPDATE OF subject, body, reporter, reporter_name ON tickets
    FOR EACH ROW WHEN (OLD.search IS DISTINCT FROM NEW.search) EXECUTE FUNCTION search_words_changed();

TRUNCATE search_words;
INSERT INTO search_words (word)
    SELECT DISTINCT w FROM tickets, unnest(tsvector_to_array(search)) AS w;
