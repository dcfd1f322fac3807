//! The ticket store (sqlx): SQLite as the embedded default, PostgreSQL for production, one code base.
//! SQL text is shared (`$n` placeholders work on both); where the dialects differ, each backend gets
//! its own arm. Every SQLite write transaction starts with `BEGIN IMMEDIATE`: a deferred `BEGIN`
//! fails at once with "database is locked" when two writers meet.

/// Runs a statement on whichever pool the store has; gives rows affected.
macro_rules! execute {
    ($store:expr, $sql:expr $(, $bind:expr)*) => {
        match $store {
            Store::Sqlite(p) => sqlx::query($sql)$(.bind($bind))*.execute(p).await.map(|r| r.rows_affected()),
            Store::Postgres(p) => sqlx::query($sql)$(.bind($bind))*.execute(p).await.map(|r| r.rows_affected()),
        }
    };
}

#[macro_use]
mod read;
#[macro_use]
mod tx;
mod audit;
mod incident;
mod lease;
mod links;
mod log;
mod migrate;
mod outbox;
mod privacy;
mod retention;
mod seed;
mod sqlite_tx;
mod staff;

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use audit::{AuditEntry, AuditRow};
pub use incident::{Candidate, IncidentRow, IncidentUpdate};
pub use links::LinkedTicket;
pub use log::{Facets, TicketFilter};
pub use outbox::{FileData, OutboxRow, queued};
pub use privacy::{PrivacyField, PrivacyReport, PrivacyRow};
pub use read::{AttachmentRow, Counted, EventRow, FileRow, MessageRow, TicketRow};
pub use retention::REMOVED;
pub use staff::{SessionLimits, UserRow};
pub use tx::{NewAttachment, NewMessage, NewOutbox, NewTicket, TicketBrief, TicketField, Tx};

#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Store {
    /// Opens (creating an SQLite file and its folder on first start) and migrates the database.
    /// `sqlite://data/routedesk.db`, `sqlite::memory:`, `postgres://user@host/db`.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
            migrate::postgres().run(&pool).await.context("applying PostgreSQL migrations")?;
            Ok(Store::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("bad SQLite database url {url:?}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            if let Some(dir) = opts.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create database folder {}", dir.display()))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .with_context(|| format!("cannot open SQLite database {url}"))?;
            migrate::sqlite().run(&pool).await.context("applying SQLite migrations")?;
            Ok(Store::Sqlite(pool))
        } else {
            anyhow::bail!("database url {:?} must start with sqlite: or postgres://", redact(url))
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Store::Sqlite(p) => Tx::Sqlite(tx::SqliteTx::begin(p).await?),
            Store::Postgres(p) => Tx::Postgres(p.begin().await.context("starting a transaction")?),
        })
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }
}

/// A database url without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("postgres://rd:s3cret@db/rd"), "postgres://rd:***@db/rd");
        assert_eq!(super::redact("sqlite://data/rd.db"), "sqlite://data/rd.db");
    }
}
