//! The intake's own report of its health (shared by every instance), the alerts that hold, and the
//! facts the alert checks read.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Db;
use super::Store;
use super::Tx;
use crate::alerts::{Condition, Facts, Finding};
use crate::pipeline::set_aside::{STORED_AUTO_REPLY, STORED_OWN_MAIL};

/// An alert that holds, as recorded.
#[derive(Debug, Clone)]
pub struct ActiveAlert {
    pub id: i64,
    pub started_at: OffsetDateTime,
    pub finding: Finding,
}

/// What the intake last reported.
#[derive(Debug, Clone, Default)]
pub struct IntakeStatus {
    pub ok_at: Option<OffsetDateTime>,
    pub failing_since: Option<OffsetDateTime>,
    pub last_error: String,
}

type AlertRow = (i64, String, OffsetDateTime, i64, i64, Option<f64>, String);

impl Store {
    /// Records a successful IMAP step of the intake of `mailbox`.
    pub async fn intake_ok(&self, mailbox: &str, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "INSERT INTO intake_status (mailbox, ok_at, failing_since, last_error, updated_at) \
             VALUES ($1, $2, NULL, '', $2) ON CONFLICT (mailbox) DO UPDATE SET ok_at = $2, failing_since = NULL, \
             last_error = '', updated_at = $2";
        db!(self, p => sqlx::query(SQL).bind(mailbox).bind(at).execute(p).await.map(drop))
            .context("recording the intake's state")
    }

    /// Records a failure of the intake of `mailbox` (the first of a run sets `failing_since`).
    pub async fn intake_failed(&self, mailbox: &str, error: &str, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "INSERT INTO intake_status (mailbox, ok_at, failing_since, last_error, updated_at) \
             VALUES ($1, NULL, $3, $2, $3) ON CONFLICT (mailbox) DO UPDATE SET \
             failing_since = COALESCE(intake_status.failing_since, $3), last_error = $2, updated_at = $3";
        let error: String = error.chars().take(1000).collect();
        db!(self, p => sqlx::query(SQL).bind(mailbox).bind(&error).bind(at).execute(p).await.map(drop))
            .context("recording the intake's state")
    }

    pub async fn intake_status(&self, mailbox: &str) -> Result<IntakeStatus> {
        const SQL: &str = "SELECT ok_at, failing_since, last_error FROM intake_status WHERE mailbox = $1";
        let row: Option<(Option<OffsetDateTime>, Option<OffsetDateTime>, String)> =
            db!(self, p => sqlx::query_as(SQL).bind(mailbox).fetch_optional(p).await)
                .context("reading the intake's state")?;
        Ok(row
            .map(|(ok_at, failing_since, last_error)| IntakeStatus { ok_at, failing_since, last_error })
            .unwrap_or_default())
    }

    /// The facts the alert checks need, but the intake's and the clock's.
    pub async fn alert_facts(&self) -> Result<Facts> {
        const LAST_MAIL: &str = "SELECT MAX(received_at) FROM messages WHERE direction = 'in'";
        const QUEUED: &str = "SELECT MIN(created_at), COUNT(*) FROM outbox WHERE status = 'queued'";
        const FAILED: &str = "SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND created_at > $1";
        const LAST_FAILED: &str =
            "SELECT COALESCE(last_error, '') FROM outbox WHERE status = 'failed' ORDER BY id DESC LIMIT 1";
        const RENUMBERED: &str = "SELECT MAX(renumbered_at) FROM mailbox_state";
        const QUARANTINED: &str =
            "SELECT COUNT(*) FROM messages WHERE verdict = 'quarantined' AND direction = 'in' AND received_at > $1";
        const LAST_QUARANTINED: &str =
            "SELECT COALESCE(reason, '') FROM messages WHERE verdict = 'quarantined' ORDER BY id DESC LIMIT 1";
        // The limits holding replies back, and our own mail coming back: the two signs of a loop.
        const HELD: &str = "SELECT COUNT(*) FROM ticket_events WHERE kind = 'reply-suppressed' AND at > $1";
        const OWN: &str = const_format::concatcp!(
            "SELECT COUNT(*) FROM messages WHERE direction = 'in' AND verdict = 'ignored' AND received_at > $1 \
             AND (reason LIKE 'own mail coming back%' OR reason LIKE '",
            STORED_OWN_MAIL,
            "%')"
        );
        // An automatic reply from someone we sent an automatic reply to: two robots met, and our
        // limits stopped it; worth knowing (a vacation responder, or a misrouted mailbox).
        const ANSWERED: &str = const_format::concatcp!(
            "SELECT COUNT(DISTINCT m.id) FROM messages m \
             JOIN outbox_recipients r ON r.address = m.from_addr \
             WHERE m.direction = 'in' AND m.verdict = 'ignored' \
             AND (m.reason LIKE 'auto-reply%' OR m.reason LIKE '",
            STORED_AUTO_REPLY,
            "%') AND m.received_at > $1 AND r.reply_at > $1"
        );
        let day_ago = OffsetDateTime::now_utc() - time::Duration::days(1);
        let mut f = Facts::default();
        let result: Result<(), sqlx::Error> = async {
            (f.last_mail_at,) = db!(self, fetch_one, LAST_MAIL)?;
            (f.oldest_queued_at, f.queued) = db!(self, fetch_one, QUEUED)?;
            (f.failed_recently,) = db!(self, fetch_one, FAILED, day_ago)?;
            let last: Option<(String,)> = db!(self, fetch_optional, LAST_FAILED)?;
            f.last_failure = last.unwrap_or_default().0;
            (f.renumbered_at,) = db!(self, fetch_one, RENUMBERED)?;
            (f.quarantined_recently,) = db!(self, fetch_one, QUARANTINED, day_ago)?;
            let last: Option<(String,)> = db!(self, fetch_optional, LAST_QUARANTINED)?;
            f.last_quarantine = last.unwrap_or_default().0;
            let (held,): (i64,) = db!(self, fetch_one, HELD, day_ago)?;
            let (own,): (i64,) = db!(self, fetch_one, OWN, day_ago)?;
            let (answered,): (i64,) = db!(self, fetch_one, ANSWERED, day_ago)?;
            f.loops_recently = held + own + answered;
            Ok(())
        }
        .await;
        result.context("reading the facts for alerts")?;
        Ok(f)
    }

    /// The database's size in bytes: the SQLite file with its write-ahead log, or PostgreSQL's
    /// `pg_database_size`; and the free share of the disk an SQLite file is on.
    pub async fn database_size(&self, url: &str) -> Result<(u64, Option<f64>)> {
        match &self.db {
            Db::Sqlite(_) => {
                let Some(path) = super::sqlite_path(url) else { return Ok((0, None)) };
                let size = |p: &str| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                let bytes = size(&path) + size(&format!("{path}-wal"));
                let dir = std::path::Path::new(&path).parent().filter(|d| !d.as_os_str().is_empty());
                let stats = fs4::statvfs(dir.unwrap_or(std::path::Path::new("."))).ok();
                let free = stats
                    .filter(|s| s.total_space() > 0)
                    .map(|s| s.available_space() as f64 * 100.0 / s.total_space() as f64);
                Ok((bytes, free))
            }
            Db::Postgres(p) => {
                let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())")
                    .fetch_one(p)
                    .await
                    .context("reading the database's size")?;
                Ok((u64::try_from(bytes).unwrap_or(0), None))
            }
        }
    }

    /// The alerts that hold now.
    pub async fn active_alerts(&self) -> Result<Vec<ActiveAlert>> {
        const SQL: &str = "SELECT id, kind, started_at, minutes, count, free_percent, said FROM alerts \
             WHERE ended_at IS NULL ORDER BY started_at";
        let rows: Vec<AlertRow> = db!(self, p => sqlx::query_as(SQL).fetch_all(p).await).context("reading alerts")?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, kind, started_at, minutes, count, free_percent, said)| {
                let condition: Condition = kind.parse().ok()?;
                Some(ActiveAlert { id, started_at, finding: Finding { condition, minutes, count, free_percent, said } })
            })
            .collect())
    }
}

impl Tx {
    pub async fn start_alert(&mut self, f: &Finding, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "INSERT INTO alerts (kind, started_at, minutes, count, free_percent, said) \
             VALUES ($1, $2, $3, $4, $5, $6)";
        db!(self, c => sqlx::query(SQL)
            .bind(f.condition.as_str())
            .bind(at)
            .bind(f.minutes)
            .bind(f.count)
            .bind(f.free_percent)
            .bind(&f.said)
            .execute(c)
            .await
            .map(drop))
        .context("recording an alert")
    }

    /// Keeps an alert's figures current while it lasts.
    pub async fn update_alert(&mut self, id: i64, f: &Finding) -> Result<()> {
        const SQL: &str = "UPDATE alerts SET minutes = $1, count = $2, free_percent = $3, said = $4 WHERE id = $5";
        db!(self, c => sqlx::query(SQL).bind(f.minutes).bind(f.count).bind(f.free_percent).bind(&f.said).bind(id).execute(c).await.map(drop))
            .context("updating an alert")
    }

    pub async fn end_alert(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE alerts SET ended_at = $1 WHERE id = $2";
        db!(self, c => sqlx::query(SQL).bind(at).bind(id).execute(c).await.map(drop)).context("ending an alert")
    }
}
