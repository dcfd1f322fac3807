//! How common the search index's common words are, from PostgreSQL's own statistics of the search
//! column (`pg_stats.most_common_elems`, kept by ANALYZE and autovacuum): a search of common words
//! can then read the newest tickets in order from the start, where asking the planner first had
//! it gather the words' whole lists from the full-text index (6 ms for two words found together
//! in one ticket in a hundred, at a million tickets) to pick out a few.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use super::{Conn, Store};

/// The statistics are read again after this long (autovacuum renews them as the log grows).
const FRESH: Duration = Duration::from_secs(300);

/// Each common word's share of the tickets.
type WordShares = Arc<HashMap<String, f64>>;

/// The common words' shares of the tickets, as last read, and when.
#[derive(Debug, Default)]
pub(super) struct Shares(Mutex<Option<(Instant, WordShares)>>);

impl Store {
    /// The share of the tickets each common word of the search index is in; empty when there are
    /// no statistics yet, and on SQLite.
    pub(super) async fn word_shares(&self) -> Result<WordShares> {
        let Conn::Postgres(pool) = self.conn() else { return Ok(Arc::default()) };
        let known = self.shares.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((_, shares)) = known.filter(|(at, _)| at.elapsed() < FRESH) {
            return Ok(shares);
        }
        let rows: Vec<(String, f64)> = sqlx::query_as(
            "SELECT e, CAST(f AS FLOAT8) FROM pg_stats, \
             unnest(CAST(CAST(most_common_elems AS TEXT) AS TEXT[]), most_common_elem_freqs) AS x(e, f) \
             WHERE schemaname = current_schema() AND tablename = 'tickets' AND attname = 'search' \
             AND e IS NOT NULL",
        )
        .fetch_all(pool)
        .await
        .context("reading the search column's statistics")?;
        let shares = Arc::new(rows.into_iter().collect::<HashMap<_, _>>());
        // None yet (a new database, before autovacuum's first ANALYZE): asked again next time.
        if !shares.is_empty() {
            *self.shares.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), shares.clone()));
        }
        Ok(shares)
    }
}
