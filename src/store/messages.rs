//! Mail received and sent: the recorded messages, their raw bytes, and how far each mailbox has
//! been read.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use crate::domain::{Direction, Verdict};

pub struct NewMessage<'a> {
    pub direction: Direction,
    pub dedup_key: &'a str,
    pub message_id: Option<&'a str>,
    pub verdict: Verdict,
    pub reason: Option<&'a str>,
    pub from_addr: Option<&'a str>,
    pub subject: &'a str,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub raw: &'a [u8],
    pub at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub direction: Direction,
    pub message_id: Option<String>,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub from_addr: Option<String>,
    pub subject: String,
    pub size: i64,
    pub received_at: OffsetDateTime,
}

/// Where intake stands in one mailbox folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxState {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// A recorded mail's row id and its raw bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMail {
    pub id: i64,
    pub raw: Vec<u8>,
}

impl Store {
    pub async fn messages_of(&self, ticket_id: i64) -> Result<Vec<MessageRow>> {
        const SQL: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE ticket_id = $1 ORDER BY id";
        db!(self, fetch_all, SQL, ticket_id).context("reading a ticket's messages")
    }

    /// Mails that did not become tickets (ignored, quarantined), newest first.
    pub async fn untracked_messages(&self, limit: i64) -> Result<Vec<MessageRow>> {
        const SQL: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE ticket_id IS NULL ORDER BY id DESC LIMIT $1";
        db!(self, fetch_all, SQL, limit).context("reading ignored and quarantined mail")
    }

    /// The last processed UID of a mailbox and the UIDVALIDITY it belongs to.
    pub async fn mailbox_state(&self, mailbox: &str) -> Result<Option<MailboxState>> {
        const SQL: &str = "SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = $1";
        let row: Option<(i64, i64)> = db!(self, fetch_optional, SQL, mailbox).context("reading mailbox state")?;
        // Both are written from u32 values; anything else would be a hand-edited row, read as 0.
        Ok(row.map(|(v, u)| MailboxState {
            uidvalidity: u32::try_from(v).unwrap_or(0),
            last_uid: u32::try_from(u).unwrap_or(0),
        }))
    }

    /// The raw report that opened a ticket.
    pub async fn report_raw(&self, ticket_id: i64) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT raw FROM messages WHERE ticket_id = $1 AND direction = 'in' ORDER BY id LIMIT 1";
        let row: Option<(Vec<u8>,)> = db!(self, fetch_optional, SQL, ticket_id).context("reading the report")?;
        Ok(row.map(|r| r.0))
    }

    /// The raw bytes of a recorded mail.
    pub async fn message_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT raw FROM messages WHERE id = $1";
        let row: Option<(Vec<u8>,)> =
            db!(self, p => sqlx::query_as(SQL).bind(id).fetch_optional(p).await).context("reading a message")?;
        Ok(row.map(|r| r.0))
    }

    /// The raw bytes of a set-aside mail: inbound and on no ticket (ignored or quarantined).
    pub async fn set_aside_raw(&self, id: i64) -> Result<Option<Vec<u8>>> {
        const SQL: &str = "SELECT raw FROM messages WHERE id = $1 AND ticket_id IS NULL AND direction = 'in'";
        let row: Option<(Vec<u8>,)> = db!(self, fetch_optional, SQL, id).context("reading a set-aside mail")?;
        Ok(row.map(|r| r.0))
    }

    /// The raw text of a message (for an access request's copy).
    pub async fn message_text(&self, id: i64) -> Result<String> {
        const SQL: &str = "SELECT raw FROM messages WHERE id = $1";
        let (raw,): (Vec<u8>,) = db!(self, fetch_one, SQL, id).context("reading a message")?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }
}

const INSERT_MESSAGES: &str = "INSERT INTO messages (ticket_id, direction, dedup_key, message_id, verdict, reason, \
     from_addr, subject, mailbox, uidvalidity, uid, size, raw, received_at) ";

/// The VALUES of messages `(&NewMessage, ticket)`, for either database's query builder.
macro_rules! push_messages {
    ($q:expr, $list:expr) => {
        $q.push_values($list, |mut row, (m, ticket_id)| {
            row.push_bind(ticket_id)
                .push_bind(m.direction)
                .push_bind(m.dedup_key)
                .push_bind(m.message_id)
                .push_bind(m.verdict)
                .push_bind(m.reason)
                .push_bind(m.from_addr)
                .push_bind(m.subject)
                .push_bind(m.mailbox)
                .push_bind(m.uidvalidity.map(i64::from))
                .push_bind(m.uid.map(i64::from))
                .push_bind(m.raw.len() as i64)
                .push_bind(m.raw)
                .push_bind(m.at);
        })
    };
}

impl Tx {
    /// Records a mail; `None` when a mail with the same dedup key is already recorded.
    pub async fn insert_message(&mut self, m: &NewMessage<'_>, ticket_id: Option<i64>) -> Result<Option<i64>> {
        let row: Option<(i64,)> = db!(self, c => {
            let mut q = sqlx::QueryBuilder::new(INSERT_MESSAGES);
            push_messages!(q, [(m, ticket_id)]);
            q.push(" ON CONFLICT (dedup_key) DO NOTHING RETURNING id");
            q.build_query_as().fetch_optional(c).await
        })
        .context("recording a message")?;
        Ok(row.map(|r| r.0))
    }

    /// Records several messages in one statement (a sent batch's copies); one already recorded
    /// under its key is left as it is.
    pub async fn insert_messages(&mut self, list: &[(NewMessage<'_>, Option<i64>)]) -> Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        db!(self, c => {
            let mut q = sqlx::QueryBuilder::new(INSERT_MESSAGES);
            push_messages!(q, list.iter().map(|(m, t)| (m, *t)));
            q.push(" ON CONFLICT (dedup_key) DO NOTHING");
            q.build().execute(c).await.map(drop)
        })
        .context("recording messages")
    }

    pub async fn set_message_ticket(&mut self, message: i64, ticket_id: i64, verdict: Verdict) -> Result<()> {
        const SQL: &str = "UPDATE messages SET ticket_id = $1, verdict = $2 WHERE id = $3";
        db!(self, c => sqlx::query(SQL).bind(ticket_id).bind(verdict).bind(message).execute(c).await.map(|r| r.rows_affected()))
            .context("linking a message to its ticket")?;
        Ok(())
    }

    /// Records how far a mailbox has been processed.
    pub async fn set_mailbox_state(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        last_uid: u32,
        at: OffsetDateTime,
    ) -> Result<()> {
        // A new UIDVALIDITY is remembered with its time, for the alert that tells somebody.
        const SQL: &str = "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = $2, last_uid = $3, updated_at = $4, \
             renumbered_at = CASE WHEN mailbox_state.uidvalidity <> $2 THEN $4 ELSE mailbox_state.renumbered_at END";
        db!(self, c => sqlx::query(SQL)
            .bind(mailbox)
            .bind(i64::from(uidvalidity))
            .bind(i64::from(last_uid))
            .bind(at)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))
        .context("recording mailbox state")?;
        Ok(())
    }

    /// The ticket a reply belongs to, by the Message-IDs it answers (ours or the report's).
    pub async fn ticket_for_thread(&mut self, ids: &[String]) -> Result<Option<i64>> {
        const IN_MESSAGES: &str =
            "SELECT ticket_id FROM messages WHERE message_id = $1 AND ticket_id IS NOT NULL ORDER BY id LIMIT 1";
        const IN_OUTBOX: &str = "SELECT ticket_id FROM outbox WHERE message_id = $1 AND ticket_id IS NOT NULL LIMIT 1";
        for id in ids.iter().rev() {
            for sql in [IN_OUTBOX, IN_MESSAGES] {
                let row: Option<(i64,)> = db!(self, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await)
                    .context("looking up a thread")?;
                if let Some((t,)) = row {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    /// The raw report that opened a ticket, and its message row id.
    pub async fn opening_message(&mut self, ticket_id: i64) -> Result<Option<StoredMail>> {
        const SQL: &str =
            "SELECT id, raw FROM messages WHERE ticket_id = $1 AND verdict = 'ticket' ORDER BY id LIMIT 1";
        db!(self, c => sqlx::query_as(SQL).bind(ticket_id).fetch_optional(c).await).context("reading the report")
    }

    /// A recorded mail without a ticket (ignored or quarantined), with its raw bytes.
    pub async fn untracked_message(&mut self, id: i64) -> Result<Option<StoredMail>> {
        const SQL: &str = "SELECT id, raw FROM messages WHERE id = $1 AND ticket_id IS NULL AND direction = 'in'";
        db!(self, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await).context("reading a message")
    }
}
