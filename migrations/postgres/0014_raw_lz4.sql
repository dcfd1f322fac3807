-- Raw mail (messages.raw) and kept files are compressed with lz4 where the server has it (PostgreSQL
-- 14 and later, built with lz4): pglz, the default, took much of the CPU of recording sent mail.
-- A server without lz4 keeps pglz; nothing else changes.
DO $$
BEGIN
    ALTER TABLE messages ALTER COLUMN raw SET COMPRESSION lz4;
    ALTER TABLE attachments ALTER COLUMN data SET COMPRESSION lz4;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'lz4 compression not available: %', SQLERRM;
END
$$;
