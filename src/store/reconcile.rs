//! The periodic reconciliation of the mailbox with the ledger: each run, and the mail on the
//! server that routedesk has no record of. Every run replaces the findings of the one before, so
//! the list is what holds now.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;

/// A mail on the server the ledger lacks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unmatched {
    pub folder: String,
    pub uid: i64,
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub subject: String,
    pub received_at: Option<OffsetDateTime>,
}

/// One run, as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReconcileRun {
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub scanned: i64,
    pub unmatched: i64,
    pub error: Option<String>,
}

impl Store {
    /// Whether a mail with this dedup key was recorded, as it was or as quarantined.
    pub async fn is_recorded(&self, key: &str) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM messages WHERE dedup_key = $1 OR dedup_key = $2";
        let quarantined = format!("{key}:quarantined");
        let (n,): (i64,) = db!(self, fetch_one, SQL, key, quarantined.as_str()).context("looking a mail up")?;
        Ok(n > 0)
    }

    pub async fn last_reconcile(&self) -> Result<Option<ReconcileRun>> {
        const SQL: &str = "SELECT started_at, finished_at, scanned, unmatched, error FROM reconcile_runs \
             ORDER BY id DESC LIMIT 1";
        db!(self, fetch_optional, SQL).context("reading the last reconciliation")
    }

    /// What the last run found, oldest mail first.
    pub async fn unmatched_mail(&self) -> Result<Vec<Unmatched>> {
        const SQL: &str = "SELECT folder, uid, message_id, from_addr, subject, received_at FROM reconcile_findings \
             ORDER BY received_at, id";
        db!(self, fetch_all, SQL).context("reading the reconciliation's findings")
    }

    /// Records a run: a failed run (`error`) keeps the findings of the last good one.
    pub async fn record_reconcile(&self, run: &ReconcileRun, found: &[Unmatched]) -> Result<()> {
        let mut tx = self.begin().await?;
        const RUN: &str = "INSERT INTO reconcile_runs (started_at, finished_at, scanned, unmatched, error) \
             VALUES ($1, $2, $3, $4, $5)";
        db!(tx, execute, RUN, run.started_at, run.finished_at, run.scanned, run.unmatched, run.error.as_deref())
            .context("recording a reconciliation")?;
        if run.error.is_none() {
            db!(tx, execute, "DELETE FROM reconcile_findings").context("clearing the last findings")?;
            const FOUND: &str = "INSERT INTO reconcile_findings \
                 (folder, uid, message_id, from_addr, subject, received_at, found_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
            for f in found {
                db!(
                    tx,
                    execute,
                    FOUND,
                    f.folder.as_str(),
                    f.uid,
                    f.message_id.as_deref(),
                    f.from_addr.as_deref(),
                    f.subject.as_str(),
                    f.received_at,
                    run.finished_at
                )
                .context("recording a finding")?;
            }
        }
        tx.commit().await
    }
}
