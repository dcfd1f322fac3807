//! The outbox queue: claiming due mail with a lease (so a crashed worker's mail is picked up again,
//! and on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps concurrent workers off each other's rows), and
//! recording how each attempt ended.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Db;
use super::read::OUTBOX_COLUMNS;
use super::{NewMessage, Store};
use crate::text::address::EmailAddress;

/// Due mail not held by a live claim: unclaimed, its claim run out, or its claimer's heartbeat
/// lease gone (the instance died mid-send).
const DUE: &str = "status = 'queued' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2 \
     OR NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'instance:' || outbox.claimed_by AND l.expires_at > $2))";
const CLAIM_SQLITE: &str = const_format::concatcp!(
    "UPDATE outbox SET locked_until = $1, claimed_by = $3, attempts = attempts + 1 WHERE id = (SELECT id FROM outbox WHERE ",
    DUE,
    " ORDER BY id LIMIT 1) RETURNING ",
    OUTBOX_COLUMNS
);
const CLAIM_POSTGRES: &str = const_format::concatcp!(
    "UPDATE outbox SET locked_until = $1, claimed_by = $3, attempts = attempts + 1 WHERE id = (SELECT id FROM outbox WHERE ",
    DUE,
    " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ",
    OUTBOX_COLUMNS
);

/// A queued or sent mail, with its recipients.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub kind: String,
    pub message_id: String,
    pub envelope_from: String,
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    pub in_reply_to: Option<String>,
    pub report_message: Option<i64>,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
}

impl OutboxRow {
    /// Every recipient, To first, for the envelope.
    pub fn recipients(&self) -> impl Iterator<Item = &EmailAddress> {
        self.to.iter().chain(&self.cc)
    }

    /// `to a, b; cc c` for the audit trail.
    pub fn describe_recipients(&self) -> String {
        let list = |l: &[EmailAddress]| l.iter().map(EmailAddress::as_str).collect::<Vec<_>>().join(", ");
        if self.cc.is_empty() { list(&self.to) } else { format!("{}; cc {}", list(&self.to), list(&self.cc)) }
    }
}

/// Read by column name; the recipients come from their own table ([`Store::fill_recipients`]).
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for OutboxRow
where
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    OffsetDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get("id")?,
            ticket_id: r.try_get("ticket_id")?,
            kind: r.try_get("kind")?,
            message_id: r.try_get("message_id")?,
            envelope_from: r.try_get("envelope_from")?,
            to: Vec::new(),
            cc: Vec::new(),
            in_reply_to: r.try_get("in_reply_to")?,
            report_message: r.try_get("report_message")?,
            subject: r.try_get("subject")?,
            body: r.try_get("body")?,
            status: r.try_get("status")?,
            attempts: r.try_get("attempts")?,
            last_error: r.try_get("last_error")?,
            created_at: r.try_get("created_at")?,
        })
    }
}

/// An attachment of a ticket, to go with its routing mail.
#[derive(Debug, Clone)]
pub struct FileData {
    pub filename: Option<String>,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl Store {
    /// Takes the next due mail for `lease` on behalf of instance `holder`; `None` when nothing is due.
    pub async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        holder: &str,
    ) -> Result<Option<OutboxRow>> {
        let until = now + lease;
        let row: Option<OutboxRow> = match &self.db {
            Db::Sqlite(p) => {
                let mut tx = super::tx::SqliteTx::begin(p).await?;
                let row =
                    sqlx::query_as(CLAIM_SQLITE).bind(until).bind(now).bind(holder).fetch_optional(&mut **tx).await?;
                tx.end("COMMIT").await?;
                row
            }
            Db::Postgres(p) => {
                sqlx::query_as(CLAIM_POSTGRES).bind(until).bind(now).bind(holder).fetch_optional(p).await?
            }
        };
        let Some(mut row) = row else { return Ok(None) };
        self.fill_recipients(&mut row).await?;
        Ok(Some(row))
    }

    /// Reads a mail's recipients into it. A stored address that is not valid (only possible in rows
    /// written before addresses were checked) is left out and logged; the mail then goes to the
    /// valid ones only, and a mail left with none fails visibly when it is sent.
    pub(super) async fn fill_recipients(&self, row: &mut OutboxRow) -> Result<()> {
        const SQL: &str =
            "SELECT role, address FROM outbox_recipients WHERE outbox_id = $1 ORDER BY role DESC, position";
        let list: Vec<(String, String)> = match &self.db {
            Db::Sqlite(p) => sqlx::query_as(SQL).bind(row.id).fetch_all(p).await,
            Db::Postgres(p) => sqlx::query_as(SQL).bind(row.id).fetch_all(p).await,
        }
        .context("reading an outgoing mail's recipients")?;
        for (role, address) in list {
            match EmailAddress::parse(&address) {
                Ok(a) if role == "cc" => row.cc.push(a),
                Ok(a) => row.to.push(a),
                Err(e) => tracing::warn!(outbox = row.id, error = %e, "stored recipient left out"),
            }
        }
        Ok(())
    }

    /// When the earliest queued mail may next be tried: its retry time, or the end of a live
    /// claim on it. `None` when nothing is queued.
    pub async fn outbox_next_due(&self) -> Result<Option<OffsetDateTime>> {
        const SQL: &str = "SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at \
             THEN locked_until ELSE next_attempt_at END) FROM outbox WHERE status = 'queued'";
        let (at,): (Option<OffsetDateTime>,) = match &self.db {
            Db::Sqlite(p) => sqlx::query_as(SQL).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_as(SQL).fetch_one(p).await,
        }
        .context("reading when the next mail is due")?;
        Ok(at)
    }

    /// Marks a mail sent, keeps its raw form on the ticket and notes it in the audit trail.
    pub async fn outbox_sent(&self, row: &OutboxRow, raw: &[u8], now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        if !tx.exec_outbox_status(row.id, "sent", None, None, Some(now)).await? {
            // Withdrawn while it was being sent (its ticket's data was removed): no copy is kept.
            return tx.commit().await;
        }
        let key = format!("out:{}", row.message_id);
        tx.insert_message(
            &NewMessage {
                direction: "out",
                dedup_key: &key,
                message_id: Some(&row.message_id),
                verdict: "outbound",
                reason: Some(&row.kind),
                from_addr: None,
                subject: &row.subject,
                mailbox: None,
                uidvalidity: None,
                uid: None,
                raw,
                at: now,
            },
            row.ticket_id,
        )
        .await?;
        if let Some(t) = row.ticket_id {
            tx.event(t, now, "routedesk", "sent", &format!("{} to {}", row.kind, row.describe_recipients())).await?;
        }
        tx.commit().await
    }

    /// A temporary failure: try again at `next`.
    pub async fn outbox_retry(&self, row: &OutboxRow, next: OffsetDateTime, error: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.exec_outbox_status(row.id, "queued", Some(next), Some(error), None).await?;
        tx.commit().await
    }

    /// A permanent failure (5xx, or out of attempts): shown on the ticket, never retried.
    pub async fn outbox_failed(&self, row: &OutboxRow, error: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        let failed = tx.exec_outbox_status(row.id, "failed", None, Some(error), None).await?;
        if let Some(t) = row.ticket_id.filter(|_| failed) {
            let detail = format!("{} to {}: {error}", row.kind, row.describe_recipients());
            tx.event(t, now, "routedesk", "delivery-failed", &detail).await?;
        }
        tx.commit().await
    }

    /// The raw bytes of a recorded mail.
    pub async fn message_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT raw FROM messages WHERE id = $1";
        let row: Option<(Vec<u8>,)> = match &self.db {
            Db::Sqlite(p) => sqlx::query_as(SQL).bind(id).fetch_optional(p).await,
            Db::Postgres(p) => sqlx::query_as(SQL).bind(id).fetch_optional(p).await,
        }
        .context("reading a message")?;
        Ok(row.map(|r| r.0))
    }

    /// Every file of a ticket (report and replies), in order.
    pub async fn ticket_files(&self, ticket_id: i64) -> Result<Vec<FileData>> {
        const SQL: &str = "SELECT filename, content_type, data FROM attachments WHERE ticket_id = $1 ORDER BY id";
        let rows: Vec<(Option<String>, String, Vec<u8>)> = match &self.db {
            Db::Sqlite(p) => sqlx::query_as(SQL).bind(ticket_id).fetch_all(p).await,
            Db::Postgres(p) => sqlx::query_as(SQL).bind(ticket_id).fetch_all(p).await,
        }
        .context("reading a ticket's files")?;
        Ok(rows.into_iter().map(|(filename, content_type, data)| FileData { filename, content_type, data }).collect())
    }

    /// Mail waiting to be sent (the queue depth).
    pub async fn outbox_pending(&self) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox WHERE status = 'queued'";
        let (n,): (i64,) = match &self.db {
            Db::Sqlite(p) => sqlx::query_as(SQL).fetch_one(p).await,
            Db::Postgres(p) => sqlx::query_as(SQL).fetch_one(p).await,
        }
        .context("counting queued mail")?;
        Ok(n)
    }
}
