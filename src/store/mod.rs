//! The ticket store (sqlx): SQLite as the embedded default, PostgreSQL for production, one code base.
//! SQL text is shared (`$n` placeholders work on both); where the dialects differ, each backend gets
//! its own arm. Every SQLite write transaction starts with `BEGIN IMMEDIATE`: a deferred `BEGIN`
//! fails at once with "database is locked" when two writers meet.

/// Runs a query on whichever connection `$on` has: a [`Store`]'s pool or a [`Tx`]'s transaction,
/// on SQLite or PostgreSQL. The SQL text is shared: `$n` placeholders work on both.
/// - `db!(on, c => expr)`: `expr` with `c` the connection (an `Executor`);
/// - `db!(on, execute, sql, binds…)`: a statement, giving the rows it affected;
/// - `db!(on, fetch_one | fetch_optional | fetch_all, sql, binds…)`: a `query_as`.
macro_rules! db {
    ($on:expr, $c:ident => $e:expr) => {
        match $on.conn() {
            $crate::store::Conn::Sqlite($c) => $e,
            $crate::store::Conn::Postgres($c) => $e,
        }
    };
    ($on:expr, execute, $sql:expr $(, $bind:expr)*) => {
        db!($on, c => sqlx::query($sql)$(.bind($bind))*.execute(c).await.map(|r| r.rows_affected()))
    };
    ($on:expr, $method:ident, $sql:expr $(, $bind:expr)*) => {
        db!($on, c => sqlx::query_as($sql)$(.bind($bind))*.$method(c).await)
    };
}

mod alerts;
mod attachments;
mod audit;
mod bounces;
mod erasure;
mod examples;
mod incidents;
mod leases;
mod log;
mod messages;
mod migrate;
mod outbox;
mod privacy;
mod reconcile;
mod retention;
#[cfg(feature = "bench")]
mod seed;
mod sessions;
mod shares;
mod sqlite_tx;
mod staff;
mod tickets;
mod tx;
mod types;
mod vendor_cases;
mod words;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use alerts::{ActiveAlert, IntakeStatus};
pub use attachments::{AttachmentRow, FileRow, NewAttachment};
pub use audit::{AuditEntry, AuditRow};
pub use erasure::{ADDRESS_REMOVED, Erased};
pub use examples::{Example, ExampleRow};
pub use incidents::{Candidate, IncidentBrief, IncidentReport, IncidentRow, IncidentStanding, IncidentUpdate};
pub use log::{Count, Facets, TicketFilter, VendorFilter};
pub use messages::{MailboxState, MessageRow, NewMessage, StoredMail};
pub use outbox::{NewOutbox, OutboxRow, ReplyGate, SentMail};
pub use privacy::{PrivacyReport, PrivacyRow};
pub use reconcile::{ReconcileRun, Unmatched};
pub use retention::{PurgeRun, REMOVED, Unkept};
pub use sessions::{PendingSignIn, SessionLimits};
pub use staff::{SsoAccount, SsoUpsert, UserRow};
pub use tickets::{EventRow, LinkedTicket, NewTicket, ReportText, TicketBrief, TicketRow, TicketStat};
pub use tx::Tx;
pub use vendor_cases::{VendorCaseRow, WaitingCase};

/// The database, and the signal its outbox worker waits on. Clones share both.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Notified after a commit that queued mail — by this store only, so two stores in one
    /// process never wake each other, and a commit that queued nothing wakes nobody.
    queued: Arc<tokio::sync::Notify>,
    /// Since when this process's intake has been draining a backlog, if it is (see
    /// [`Store::draining`]).
    backlog: Arc<tokio::sync::watch::Sender<Option<tokio::time::Instant>>>,
    /// The search index's common words and how common (see [`Store::word_shares`]).
    shares: Arc<shares::Shares>,
}

/// How long the outbox stands back for a backlog at most: a flood that lasts longer is mailed
/// while it is recorded.
const BACKLOG_PRECEDENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// While alive, the intake is draining a backlog (see [`Store::draining`]).
pub struct Draining(Arc<tokio::sync::watch::Sender<Option<tokio::time::Instant>>>);

impl Drop for Draining {
    fn drop(&mut self) {
        self.0.send_replace(None);
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A connection of either backend: `S` on SQLite, `P` on PostgreSQL (pools for a [`Store`],
/// connections inside a transaction for a [`Tx`]). What [`db!`] runs queries on.
pub(crate) enum Conn<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// The connection pool, for tools and tests that run SQL of their own.
pub enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

impl Store {
    pub fn pool(&self) -> Pool<'_> {
        match &self.db {
            Db::Sqlite(p) => Pool::Sqlite(p),
            Db::Postgres(p) => Pool::Postgres(p),
        }
    }

    pub(crate) fn conn(&self) -> Conn<&SqlitePool, &PgPool> {
        match &self.db {
            Db::Sqlite(p) => Conn::Sqlite(p),
            Db::Postgres(p) => Conn::Postgres(p),
        }
    }

    fn new(db: Db) -> Store {
        Store {
            db,
            queued: Arc::default(),
            backlog: Arc::new(tokio::sync::watch::Sender::new(None)),
            shares: Arc::default(),
        }
    }

    /// The intake has a backlog waiting: until the returned guard is dropped, this
    /// process's outbox stands back (for at most [`BACKLOG_PRECEDENCE`]), so the reports are
    /// recorded first — on two cores the outbox's composing and the SMTP server's delivery would
    /// take a core from the recording, and on SQLite the outbox's records its write lock.
    pub fn draining(&self) -> Draining {
        self.backlog.send_if_modified(|since| {
            let fresh = since.is_none();
            since.get_or_insert_with(tokio::time::Instant::now);
            fresh
        });
        Draining(self.backlog.clone())
    }

    /// Resolves once no backlog is being drained, or the backlog has had its time.
    pub async fn backlog_recorded(&self) {
        let mut rx = self.backlog.subscribe();
        let Some(since) = *rx.borrow_and_update() else { return };
        let until = since + BACKLOG_PRECEDENCE;
        let _ = tokio::time::timeout_at(until, rx.wait_for(Option::is_none)).await;
    }

    /// Resolves when mail has been queued (committed) since the last call; at once if it was
    /// queued while nobody waited.
    pub async fn mail_queued(&self) {
        self.queued.notified().await;
    }

    /// Wakes one more outbox worker (one that found a full batch asks a neighbour to help).
    pub fn wake_outbox(&self) {
        self.queued.notify_one();
    }

    /// Opens (creating an SQLite file and its folder on first start) and migrates the database.
    /// `sqlite://data/routedesk.db`, `sqlite::memory:`, `postgres://user@host/db`.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_as(url, "routedesk").await
    }

    /// [`Store::connect`], naming the connections `name` on PostgreSQL (`application_name`, shown
    /// in `pg_stat_activity`): a service names its instance, so an operator sees whose each is.
    pub async fn connect_as(url: &str, name: &str) -> Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // No JIT compilation: a search's lookups over a million tickets are costed high enough
            // for it, and compiling (some 40 ms) took ten times longer than running them.
            // A transaction left open (its instance frozen or paused mid-write) is ended by the
            // server, so its locks cannot hold up the instance that took over: routedesk never
            // waits on anything else inside a transaction.
            let opts = PgConnectOptions::from_str(url)
                .with_context(|| format!("bad PostgreSQL database url {}", redact(url)))?
                .options([("jit", "off"), ("idle_in_transaction_session_timeout", "20s")])
                .application_name(name);
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
            migrate::postgres().run(&pool).await.context("applying PostgreSQL migrations")?;
            Ok(Store::new(Db::Postgres(pool)))
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("bad SQLite database url {url:?}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Removed data (a purged report, an erased person's mail) is overwritten with zeros,
                // not left readable in the file's free pages.
                .pragma("secure_delete", "ON");
            if let Some(dir) = opts.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create database folder {}", dir.display()))?;
            }
            // sqlx takes no lock for SQLite migrations: two processes opening a new database at
            // once (the service and a command) would both switch it to WAL and apply the first
            // migration. Whoever comes second waits until the first has opened and migrated it.
            let _migrating = migrate::sqlite_lock(opts.get_filename()).await?;
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .with_context(|| format!("cannot open SQLite database {url}"))?;
            migrate::sqlite().run(&pool).await.context("applying SQLite migrations")?;
            Ok(Store::new(Db::Sqlite(pool)))
        } else {
            anyhow::bail!("database url {:?} must start with sqlite: or postgres://", redact(url))
        }
    }

    /// After personal data was removed: on SQLite, copies every change into the database file and
    /// empties the write-ahead log, which would otherwise keep older page images (with the removed
    /// data) until they happen to be overwritten. PostgreSQL keeps no such copy readable.
    pub async fn truncate_log(&self) -> Result<()> {
        if let Db::Sqlite(p) = &self.db {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(p)
                .await
                .context("checkpointing the database")?;
            if busy != 0 {
                tracing::warn!(
                    "the write-ahead log could not be emptied now (a reader held it); SQLite empties it later"
                );
            }
        }
        Ok(())
    }

    /// The pool's open connections to the database, and how many of them are idle.
    pub fn connections(&self) -> (u32, usize) {
        match &self.db {
            Db::Sqlite(p) => (p.size(), p.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        }
    }

    pub fn backend(&self) -> Backend {
        match &self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> Result<Tx> {
        let conn = match &self.db {
            Db::Sqlite(p) => tx::TxConn::Sqlite(tx::SqliteTx::begin(p).await?),
            Db::Postgres(p) => tx::TxConn::Postgres(p.begin().await.context("starting a transaction")?),
        };
        Ok(Tx { conn, wake: self.queued.clone(), queued_mail: false, events: Vec::new() })
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Counted {
    Tickets,
    /// Mail that reached the mailbox.
    Inbound,
    Outbox,
}

impl Store {
    pub async fn count(&self, what: Counted) -> Result<i64> {
        let sql = match what {
            Counted::Tickets => "SELECT COUNT(*) FROM tickets",
            Counted::Inbound => "SELECT COUNT(*) FROM messages WHERE direction = 'in'",
            Counted::Outbox => "SELECT COUNT(*) FROM outbox",
        };
        let (n,): (i64,) = db!(self, fetch_one, sql).context("counting")?;
        Ok(n)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        let _: (i64,) = db!(self, fetch_one, "SELECT CAST(1 AS BIGINT)").context("the database does not answer")?;
        Ok(())
    }
}

/// A file next to the database whose lock says who may use it (created when missing).
fn lock_file(path: &str) -> Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {path}"))
}

/// The file of an SQLite url (`sqlite://data/rd.db?mode=rwc` → `data/rd.db`); `None` for other
/// databases and for in-memory ones.
pub fn sqlite_path(url: &str) -> Option<String> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_string())
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

    /// The outbox gives way while a backlog drains, and goes on when it is recorded — or after
    /// [`super::BACKLOG_PRECEDENCE`] at most, so a flood is mailed while it lasts.
    #[tokio::test(start_paused = true)]
    async fn the_outbox_gives_way_to_a_backlog_for_a_while_at_most() {
        use std::time::Duration;
        let store = super::Store::new(super::Db::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new().connect_lazy("sqlite::memory:").expect("pool"),
        ));
        tokio::time::timeout(Duration::from_millis(1), store.backlog_recorded()).await.expect("no backlog: at once");
        let draining = store.draining();
        assert!(
            tokio::time::timeout(Duration::from_secs(5), store.backlog_recorded()).await.is_err(),
            "waits while the backlog drains"
        );
        let waiting = tokio::spawn({
            let store = store.clone();
            async move { store.backlog_recorded().await }
        });
        tokio::task::yield_now().await;
        drop(draining);
        tokio::time::timeout(Duration::from_millis(1), waiting).await.expect("goes on once recorded").expect("task");

        let _flood = store.draining();
        let started = tokio::time::Instant::now();
        store.backlog_recorded().await;
        let waited = started.elapsed();
        assert!(
            waited >= super::BACKLOG_PRECEDENCE - Duration::from_secs(1) && waited <= super::BACKLOG_PRECEDENCE,
            "gives way for the precedence at most: {waited:?}"
        );
    }
}
