//! The words the search index holds: a search for a word's beginning asks here which words it
//! stands for, and then the index for those words alone. Both databases gather every ticket with
//! a word so beginning before they find the first match (`ikke*` is in most tickets; `ikke` is read
//! lazily), and a beginning no word has ends the search at once.
//!
//! SQLite steps through FTS5's own words, each step the first entry at or after the last word and
//! one more byte (`instance` view, migration 0023): a step reads one entry, where the index's
//! `row` view counts each word's tickets. PostgreSQL reads its `search_words` table, a B-tree range.

use anyhow::{Context as _, Result};

use super::{Backend, Store};

/// More words than this for one beginning: it is searched as a beginning after all.
pub(super) const MAX_EXPANSION: i64 = 128;

impl Store {
    /// The words of the index that begin with `prefix` (lower case, as the index keeps them), up
    /// to [`MAX_EXPANSION`] + 1 (one more says "too many").
    pub(super) async fn words_beginning(&self, prefix: &str) -> Result<Vec<String>> {
        // Byte order on both (FTS5 keeps its terms so; the table's column is `COLLATE "C"`): every
        // word that begins with `prefix` sorts below `prefix` + the last code point.
        let upper = format!("{prefix}\u{10FFFF}");
        let sql = match self.backend() {
            // No word holds a NUL byte, so the next word after `w` is the first at or after `w`
            // followed by the byte 1.
            Backend::Sqlite => {
                "WITH RECURSIVE step(term) AS (
                     SELECT (SELECT term FROM tickets_terms WHERE term >= $1 AND term < $2 LIMIT 1)
                     UNION ALL
                     SELECT (SELECT term FROM tickets_terms WHERE term >= step.term || char(1) AND term < $2 LIMIT 1)
                         FROM step WHERE step.term IS NOT NULL
                     LIMIT $3 + 1
                 )
                 SELECT term FROM step WHERE term IS NOT NULL LIMIT $3"
            }
            Backend::Postgres => "SELECT word FROM search_words WHERE word >= $1 AND word < $2 ORDER BY word LIMIT $3",
        };
        let rows: Vec<(String,)> =
            db!(self, fetch_all, sql, prefix, &upper, MAX_EXPANSION + 1).context("reading the search index's words")?;
        Ok(rows.into_iter().map(|(w,)| w).collect())
    }
}
