//! The outbox queue: claiming due mail with a lease (so a crashed worker's mail is picked up again,
//! and on PostgreSQL `FOR UPDATE SKIP LOCKED` keeps concurrent workers off each other's rows), and
//! recording how each attempt ended.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Db;
use super::Store;
use super::Tx;
use super::messages::NewMessage;
use crate::domain::event::Event;
use crate::domain::{OutboxKind, OutboxStatus};
use crate::text::address::EmailAddress;

pub struct NewOutbox<'a> {
    pub ticket_id: Option<i64>,
    pub kind: OutboxKind,
    pub message_id: &'a str,
    pub envelope_from: &'a str,
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
    pub in_reply_to: Option<&'a str>,
    pub report_message: Option<i64>,
    pub subject: &'a str,
    pub body: &'a str,
    pub status: OutboxStatus,
    pub at: OffsetDateTime,
}

pub(super) const OUTBOX_COLUMNS: &str = "id, ticket_id, kind, message_id, envelope_from, in_reply_to, \
     report_message, subject, body, status, attempts, last_error, maybe_sent, created_at";

/// Due mail not held by a live claim: unclaimed, its claim run out, or its claimer's heartbeat
/// lease gone (the instance died mid-send).
const DUE: &str = "status = 'queued' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until < $2 \
     OR NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'instance:' || outbox.claimed_by AND l.expires_at > $2))";

/// A claim; a row still holding an earlier claim's lock was claimed by a sender that never recorded
/// how its attempt ended (every outcome clears the lock): that attempt may have reached the server.
const RECLAIM: &str = "locked_until = $1, claimed_by = $3, attempts = attempts + 1, \
     maybe_sent = CASE WHEN locked_until IS NULL THEN maybe_sent ELSE TRUE END";

const CLAIM_SQLITE: &str = const_format::concatcp!(
    "UPDATE outbox SET ",
    RECLAIM,
    " WHERE id IN (SELECT id FROM outbox WHERE ",
    DUE,
    " ORDER BY id LIMIT $4) RETURNING ",
    OUTBOX_COLUMNS
);

const CLAIM_POSTGRES: &str = const_format::concatcp!(
    "UPDATE outbox SET ",
    RECLAIM,
    " WHERE id IN (SELECT id FROM outbox WHERE ",
    DUE,
    " ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ",
    OUTBOX_COLUMNS
);

/// How many mails' recipients one statement reads: well under either database's limit of bound
/// values.
const RECIPIENTS_AT_ONCE: usize = 500;

/// How many sent mails one statement records at most, and about how many bytes of their copies.
const SENT_AT_ONCE: usize = 200;
const SENT_BYTES_AT_ONCE: usize = 32 << 20;

/// The sent mails in runs of at most [`SENT_AT_ONCE`] mails and about [`SENT_BYTES_AT_ONCE`] bytes
/// (a run holds at least one mail, however large).
fn chunks_by_size<'s, 'a>(sent: &'s [SentMail<'a>]) -> impl Iterator<Item = &'s [SentMail<'a>]> {
    let mut rest = sent;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (run, later) = rest.split_at(first_run(rest.iter().map(|m| m.raw.len())));
        rest = later;
        Some(run)
    })
}

/// How many of mails of these sizes the next run takes: at least one.
fn first_run(sizes: impl Iterator<Item = usize>) -> usize {
    let mut bytes = 0;
    sizes
        .take(SENT_AT_ONCE)
        .take_while(|size| {
            bytes += size;
            bytes <= SENT_BYTES_AT_ONCE
        })
        .count()
        .max(1)
}

/// A mail the server accepted, with the bytes it was sent as (kept on its ticket).
pub struct SentMail<'a> {
    pub row: &'a OutboxRow,
    pub raw: Vec<u8>,
}

/// Whether an automatic reply may go: see [`Tx::reply_gate`].
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct ReplyGate {
    /// Until when replies to the address are blocked, if they are.
    pub until: Option<OffsetDateTime>,
    /// Replies queued to the address in the window.
    pub to_address: i64,
    /// Replies queued to anyone in the window, when asked for.
    pub in_all: Option<i64>,
}

/// A queued or sent mail, with its recipients (read from their own table by
/// [`Store::fill_recipients`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub kind: OutboxKind,
    pub message_id: String,
    pub envelope_from: String,
    #[sqlx(skip)]
    pub to: Vec<EmailAddress>,
    #[sqlx(skip)]
    pub cc: Vec<EmailAddress>,
    pub in_reply_to: Option<String>,
    pub report_message: Option<i64>,
    pub subject: String,
    pub body: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// An earlier attempt may have reached the server: the recipients may have it twice (with
    /// the same Message-ID).
    pub maybe_sent: bool,
    pub created_at: OffsetDateTime,
}

impl OutboxRow {
    /// Every recipient, To first, for the envelope.
    pub fn recipients(&self) -> impl Iterator<Item = &EmailAddress> {
        self.to.iter().chain(&self.cc)
    }
}

impl Store {
    pub async fn outbox_of(&self, ticket_id: i64) -> Result<Vec<OutboxRow>> {
        const SQL: &str =
            const_format::concatcp!("SELECT ", OUTBOX_COLUMNS, " FROM outbox WHERE ticket_id = $1 ORDER BY id");
        let mut rows: Vec<OutboxRow> =
            db!(self, fetch_all, SQL, ticket_id).context("reading a ticket's outgoing mail")?;
        self.fill_recipients(&mut rows).await?;
        Ok(rows)
    }

    /// Every outgoing mail of one kind (e.g. `alert`), oldest first.
    pub async fn outbox_of_kind(&self, kind: OutboxKind) -> Result<Vec<OutboxRow>> {
        const SQL: &str =
            const_format::concatcp!("SELECT ", OUTBOX_COLUMNS, " FROM outbox WHERE kind = $1 ORDER BY id");
        let mut rows: Vec<OutboxRow> = db!(self, fetch_all, SQL, kind).context("reading outgoing mail")?;
        self.fill_recipients(&mut rows).await?;
        Ok(rows)
    }

    /// Takes up to `limit` due mails, oldest first, for `lease` on behalf of instance `holder`;
    /// empty when nothing is due. Each claim counts as an attempt.
    pub async fn claim_outbox(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
        holder: &str,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let until = now + lease;
        let mut rows: Vec<OutboxRow> = match &self.db {
            Db::Sqlite(p) => {
                let mut tx = super::tx::SqliteTx::begin(p).await?;
                let rows = sqlx::query_as(CLAIM_SQLITE)
                    .bind(until)
                    .bind(now)
                    .bind(holder)
                    .bind(limit)
                    .fetch_all(&mut **tx)
                    .await
                    .context("claiming due mail")?;
                tx.end("COMMIT").await?;
                rows
            }
            Db::Postgres(p) => sqlx::query_as(CLAIM_POSTGRES)
                .bind(until)
                .bind(now)
                .bind(holder)
                .bind(limit)
                .fetch_all(p)
                .await
                .context("claiming due mail")?,
        };
        // RETURNING gives no order; mail goes out in the order it was queued.
        rows.sort_by_key(|r| r.id);
        self.fill_recipients(&mut rows).await?;
        Ok(rows)
    }

    /// Reads the mails' recipients into them: one statement for up to [`RECIPIENTS_AT_ONCE`]
    /// mails, not one a mail (a claimed batch of a busy queue costs one). A stored address that is
    /// not valid (only possible in rows written before addresses were checked) is left out and
    /// logged; the mail then goes to the valid ones only, and a mail left with none fails visibly
    /// when it is sent.
    pub(super) async fn fill_recipients(&self, rows: &mut [OutboxRow]) -> Result<()> {
        const SQL: &str = "SELECT outbox_id, role, address FROM outbox_recipients WHERE outbox_id IN (";
        for chunk in rows.chunks_mut(RECIPIENTS_AT_ONCE) {
            let list: Vec<(i64, String, String)> = db!(self, p => {
                let mut q = sqlx::QueryBuilder::new(SQL);
                let mut ids = q.separated(", ");
                for row in chunk.iter() {
                    ids.push_bind(row.id);
                }
                q.push(") ORDER BY outbox_id, role DESC, position");
                q.build_query_as().fetch_all(p).await
            })
            .context("reading outgoing mails' recipients")?;
            let at: std::collections::HashMap<i64, usize> =
                chunk.iter().enumerate().map(|(i, row)| (row.id, i)).collect();
            for (id, role, address) in list {
                let Some(row) = at.get(&id).and_then(|i| chunk.get_mut(*i)) else { continue };
                match EmailAddress::parse(&address) {
                    Ok(a) if role == "cc" => row.cc.push(a),
                    Ok(a) => row.to.push(a),
                    Err(e) => tracing::warn!(outbox = row.id, error = %e, "stored recipient left out"),
                }
            }
        }
        Ok(())
    }

    /// When the earliest queued mail may next be tried: its retry time, or the end of a live
    /// claim on it. `None` when nothing is queued.
    pub async fn outbox_next_due(&self) -> Result<Option<OffsetDateTime>> {
        const SQL: &str = "SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > next_attempt_at \
             THEN locked_until ELSE next_attempt_at END) FROM outbox WHERE status = 'queued'";
        let (at,): (Option<OffsetDateTime>,) =
            db!(self, p => sqlx::query_as(SQL).fetch_one(p).await).context("reading when the next mail is due")?;
        Ok(at)
    }

    /// Marks mails sent, keeps each one's raw form on its ticket and notes it in the audit trail:
    /// one transaction for a batch, so a busy queue costs one commit per batch, not per mail.
    pub async fn outbox_sent(&self, sent: &[SentMail<'_>], now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        for chunk in chunks_by_size(sent) {
            tx.record_sent(chunk, now).await?;
        }
        tx.commit().await
    }

    /// A temporary failure: try again at `next`.
    pub async fn outbox_retry(&self, row: &OutboxRow, next: OffsetDateTime, error: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.exec_outbox_status(row.id, OutboxStatus::Queued, Some(next), Some(error), None).await?;
        tx.commit().await
    }

    /// Marks a mail as possibly delivered already: its session was lost after the end of its DATA.
    pub async fn outbox_maybe_sent(&self, id: i64) -> Result<()> {
        const SQL: &str = "UPDATE outbox SET maybe_sent = TRUE WHERE id = $1";
        db!(self, execute, SQL, id).context("marking an outgoing mail as possibly delivered")?;
        Ok(())
    }

    /// Puts a claimed mail back untried until `until` (its recipients' server is being given a
    /// rest): the claim does not count as an attempt, and `why` shows on the ticket page.
    pub async fn outbox_defer(&self, row: &OutboxRow, until: OffsetDateTime, why: &str) -> Result<()> {
        const SQL: &str = "UPDATE outbox SET next_attempt_at = $1, last_error = $2, locked_until = NULL, \
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $3 AND status = 'queued'";
        db!(self, execute, SQL, until, why, row.id).context("putting back an outgoing mail")?;
        Ok(())
    }

    /// A permanent failure (5xx, or out of attempts): shown on the ticket, never retried.
    pub async fn outbox_failed(&self, row: &OutboxRow, error: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        let failed = tx.exec_outbox_status(row.id, OutboxStatus::Failed, None, Some(error), None).await?;
        if let Some(t) = row.ticket_id.filter(|_| failed) {
            let failed = Event::DeliveryFailed {
                mail: row.kind,
                to: row.to.iter().map(ToString::to_string).collect(),
                cc: row.cc.iter().map(ToString::to_string).collect(),
                error: error.to_string(),
            };
            tx.record(t, now, "routedesk", &failed).await?;
        }
        tx.commit().await
    }

    /// Whether this mail is still queued under `holder`'s claim: not taken over by another
    /// instance while `holder` was stalled (frozen, paused, cut off) past its lease.
    pub async fn outbox_still_claimed(&self, id: i64, holder: &str) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox WHERE id = $1 AND claimed_by = $2 AND status = 'queued'";
        let (n,): (i64,) =
            db!(self, p => sqlx::query_as(SQL).bind(id).bind(holder).fetch_one(p).await).context("checking a claim")?;
        Ok(n > 0)
    }

    /// Mail waiting to be sent (the queue depth).
    pub async fn outbox_pending(&self) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox WHERE status = 'queued'";
        let (n,): (i64,) = db!(self, p => sqlx::query_as(SQL).fetch_one(p).await).context("counting queued mail")?;
        Ok(n)
    }
}

impl Tx {
    /// Queues a mail with its recipients, each a row of its own.
    pub async fn insert_outbox(&mut self, o: &NewOutbox<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO outbox (ticket_id, kind, message_id, envelope_from, in_reply_to, \
             report_message, subject, body, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10) RETURNING id";
        const RECIPIENTS: &str = "INSERT INTO outbox_recipients (outbox_id, role, position, address, reply_at) ";
        anyhow::ensure!(!o.to.is_empty(), "an outgoing mail needs at least one recipient");
        self.queued_mail = true;
        let (id,): (i64,) = db!(self, c => sqlx::query_as(SQL)
            .bind(o.ticket_id)
            .bind(o.kind)
            .bind(o.message_id)
            .bind(o.envelope_from)
            .bind(o.in_reply_to)
            .bind(o.report_message)
            .bind(o.subject)
            .bind(o.body)
            .bind(o.status)
            .bind(o.at)
            .fetch_one(c)
            .await)
        .context("queueing an outgoing mail")?;
        // Every recipient in one statement: a round trip fewer per address. An automatic reply's
        // rows carry its time, for the per-sender limit's count.
        let reply_at = o.kind.is_auto_reply().then_some(o.at);
        let list: Vec<_> =
            o.to.iter().map(|a| ("to", a)).enumerate().chain(o.cc.iter().map(|a| ("cc", a)).enumerate()).collect();
        db!(self, c => {
            let mut q = sqlx::QueryBuilder::new(RECIPIENTS);
            q.push_values(&list, |mut row, (position, (role, address))| {
                row.push_bind(id)
                    .push_bind(*role)
                    .push_bind(i64::try_from(*position).unwrap_or(i64::MAX))
                    .push_bind(address.as_str())
                    .push_bind(reply_at);
            });
            q.build().execute(c).await.map(drop)
        })
        .context("queueing an outgoing mail's recipients")?;
        Ok(id)
    }

    /// What decides whether an automatic reply to `address` may go at `now`: until when replies
    /// to it are blocked (if they are), how many were queued to it since `since` (the per-sender
    /// limit counts each address, whatever else a mail went to), and — when `in_all` — how many
    /// to anyone since then (the helpdesk's limit in all). One statement, read for every report.
    pub async fn reply_gate(
        &mut self,
        address: &EmailAddress,
        now: OffsetDateTime,
        since: OffsetDateTime,
        in_all: bool,
    ) -> Result<ReplyGate> {
        const SQL: &str = "SELECT b.until, \
             (SELECT COUNT(*) FROM outbox_recipients WHERE address = $1 AND reply_at > $3) AS to_address, \
             CASE WHEN $4 THEN (SELECT COUNT(*) FROM outbox \
                 WHERE kind IN ('acknowledgement', 'request-info') AND created_at > $3) END AS in_all \
             FROM (SELECT 1 AS one) x LEFT JOIN blocked_addresses b ON b.address = $1 AND b.until > $2";
        db!(self, c => sqlx::query_as(SQL).bind(address.as_str()).bind(now).bind(since).bind(in_all).fetch_one(c).await)
            .context("checking whether a reply may go")
    }

    /// Whether a ticket has already had an automatic reply to `address`.
    pub async fn ticket_replied_to(&mut self, ticket_id: i64, address: &EmailAddress) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox_recipients r JOIN outbox o ON o.id = r.outbox_id \
             WHERE o.ticket_id = $1 AND r.address = $2 AND o.kind IN ('acknowledgement', 'request-info')";
        let (n,): (i64,) =
            db!(self, c => sqlx::query_as(SQL).bind(ticket_id).bind(address.as_str()).fetch_one(c).await)
                .context("checking earlier replies")?;
        Ok(n > 0)
    }

    /// Marks the mails sent and keeps their copies, in two statements for the lot (with the
    /// tickets' events, written at the commit); nothing is kept of a mail withdrawn while it was
    /// being sent (its ticket's data was removed).
    async fn record_sent(&mut self, sent: &[SentMail<'_>], now: OffsetDateTime) -> Result<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let marked: Vec<(i64,)> = db!(self, c => {
            let mut q = sqlx::QueryBuilder::new("UPDATE outbox SET status = 'sent', sent_at = ");
            q.push_bind(now);
            q.push(", locked_until = NULL WHERE status = 'queued' AND id IN (");
            let mut ids = q.separated(", ");
            for mail in sent {
                ids.push_bind(mail.row.id);
            }
            q.push(") RETURNING id");
            q.build_query_as().fetch_all(c).await
        })
        .context("marking outgoing mail sent")?;
        let marked: std::collections::HashSet<i64> = marked.into_iter().map(|(id,)| id).collect();
        let sent: Vec<&SentMail<'_>> = sent.iter().filter(|m| marked.contains(&m.row.id)).collect();
        let keys: Vec<String> = sent.iter().map(|m| format!("out:{}", m.row.message_id)).collect();
        let copies: Vec<(NewMessage<'_>, Option<i64>)> = sent
            .iter()
            .zip(&keys)
            .map(|(m, key)| {
                let copy = NewMessage {
                    direction: crate::domain::Direction::Out,
                    dedup_key: key,
                    message_id: Some(&m.row.message_id),
                    verdict: crate::domain::Verdict::Outbound,
                    reason: Some(m.row.kind.as_str()),
                    from_addr: None,
                    subject: &m.row.subject,
                    mailbox: None,
                    uidvalidity: None,
                    uid: None,
                    raw: &m.raw,
                    at: now,
                };
                (copy, m.row.ticket_id)
            })
            .collect();
        self.insert_messages(&copies).await?;
        for m in sent {
            let Some(t) = m.row.ticket_id else { continue };
            let event = Event::Sent {
                mail: m.row.kind,
                to: m.row.to.iter().map(ToString::to_string).collect(),
                cc: m.row.cc.iter().map(ToString::to_string).collect(),
            };
            self.record(t, now, "routedesk", &event).await?;
        }
        Ok(())
    }

    /// Records how an attempt to send a queued mail ended; `false` when the mail is no longer
    /// queued (withdrawn while it was being sent: its texts were removed, nothing is recorded).
    pub(super) async fn exec_outbox_status(
        &mut self,
        id: i64,
        status: OutboxStatus,
        next_attempt_at: Option<OffsetDateTime>,
        error: Option<&str>,
        sent_at: Option<OffsetDateTime>,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             last_error = COALESCE($3, last_error), sent_at = $4, locked_until = NULL WHERE id = $5 AND status = 'queued'";
        db!(self, c => sqlx::query(SQL)
            .bind(status)
            .bind(next_attempt_at)
            .bind(error)
            .bind(sent_at)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .context("updating an outgoing mail")
        .map(|n| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_sent_mail_is_bounded_by_count_and_bytes_and_never_empty() {
        assert_eq!(first_run(std::iter::repeat_n(150_000, 1_000)), SENT_AT_ONCE);
        assert_eq!(first_run(std::iter::repeat_n(150_000, 7)), 7);
        assert_eq!(first_run([10 << 20, 10 << 20, 10 << 20, 10 << 20].into_iter()), 3);
        assert_eq!(first_run([40 << 20, 1].into_iter()), 1, "a mail over the bytes goes alone");
        assert_eq!(first_run([1, 40 << 20].into_iter()), 1);
    }
}
