//! A write transaction on either backend. Everything one report causes — its ticket, messages,
//! attachments, audit events and outgoing mail — is written through one `Tx` and committed together.

use anyhow::{Context as _, Result};
use sqlx::{Postgres, Transaction};

pub use super::sqlite_tx::SqliteTx;

pub struct Tx {
    pub(super) conn: TxConn,
    /// The store's outbox signal, given after a commit that queued mail.
    pub(super) wake: std::sync::Arc<tokio::sync::Notify>,
    pub(super) queued_mail: bool,
    /// Audit events written so far, inserted together before anything reads or changes the trail
    /// and at the commit: a report's half-dozen events cost one statement, not six.
    pub(super) events: Vec<PendingEvent>,
}

/// An audit event not yet inserted.
pub(super) struct PendingEvent {
    pub ticket_id: i64,
    pub at: time::OffsetDateTime,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

pub(super) enum TxConn {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> super::Conn<&mut sqlx::SqliteConnection, &mut sqlx::PgConnection> {
        match &mut self.conn {
            TxConn::Sqlite(t) => super::Conn::Sqlite(&mut ***t),
            TxConn::Postgres(t) => super::Conn::Postgres(&mut **t),
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        self.flush_events().await?;
        match self.conn {
            TxConn::Sqlite(t) => t.end("COMMIT").await?,
            TxConn::Postgres(t) => t.commit().await.context("committing")?,
        }
        if self.queued_mail {
            self.wake.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.end("ROLLBACK").await,
            TxConn::Postgres(t) => t.rollback().await.context("rolling back"),
        }
    }
}
