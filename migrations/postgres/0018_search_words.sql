-- The words the tickets' search column holds, so a search for a word's beginning can name the
-- words it stands for (`ikke:*` → `ikke`): GIN gathers every ticket with a word so beginning
-- before it finds a match, while whole words it reads lazily. Byte order ("C"), so a beginning is
-- a range of the key.
CREATE TABLE search_words (
    word TEXT COLLATE "C" PRIMARY KEY
);
INSERT INTO search_words (word)
    SELECT DISTINCT w FROM tickets, unnest(tsvector_to_array(search)) AS w;

-- Kept up to date by triggers. New words are added in order, so two transactions adding the same
-- new words wait for each other rather than deadlock; a word is forgotten when no ticket has it any
-- more (a purge or an erasure leaves no name behind here either). Whether one still does is planned
-- for each word with the word in the query: a common word is found in the first rows read, a rare
-- one through the index.
CREATE FUNCTION search_words_forget(gone TEXT[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    w TEXT;
    kept BOOLEAN;
BEGIN
    FOREACH w IN ARRAY gone LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM tickets WHERE search @@ plainto_tsquery(''simple'', %L))', w)
            INTO kept;
        IF NOT kept THEN
            DELETE FROM search_words WHERE word = w;
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION search_words_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
        SELECT DISTINCT w FROM added, unnest(tsvector_to_array(added.search)) AS w ORDER BY w
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_words_added AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION search_words_added();

CREATE FUNCTION search_words_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
        SELECT w FROM unnest(tsvector_to_array(NEW.search)) AS w ORDER BY w
        ON CONFLICT DO NOTHING;
    PERFORM search_words_forget(ARRAY(
        SELECT unnest(tsvector_to_array(OLD.search)) EXCEPT SELECT unnest(tsvector_to_array(NEW.search))));
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_words_changed AFTER UPDATE OF subject, body, reporter, reporter_name ON tickets
    FOR EACH ROW WHEN (OLD.search IS DISTINCT FROM NEW.search) EXECUTE FUNCTION search_words_changed();

CREATE FUNCTION search_words_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM search_words_forget(ARRAY(SELECT DISTINCT unnest(tsvector_to_array(search)) FROM removed));
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_words_removed AFTER DELETE ON tickets
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION search_words_removed();
