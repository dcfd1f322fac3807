-- PostgreSQL only (lz4 compression of raw mail and files); SQLite stores them uncompressed.
SELECT 1;
