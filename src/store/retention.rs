//! Data retention (GDPR art. 5(1)(e)): resolved tickets past the policy's period lose their personal
//! data — report text, reporter, mail, attachments, notes — and keep what the statistics need
//! (number, class, municipality, status, dates); an unconfirmed group of reports titled after one
//! loses that title too. Mail set aside (ignored, quarantined) loses its
//! content after its own period. Every run is recorded; every ticket gets a `purged` event.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::read::{MessageRow, TicketRow};
use super::{Store, Tx};

/// What stands in for a removed subject.
pub const REMOVED: &str = "[personal data removed]";

impl Store {
    /// Resolved tickets last changed before `cutoff` that still hold personal data, oldest first.
    pub async fn purge_candidates(&self, cutoff: OffsetDateTime, limit: i64) -> Result<Vec<(i64, String)>> {
        // Written as the partial index `tickets_unpurged` is, so the index serves it.
        const SQL: &str = "SELECT id, number FROM tickets WHERE status = 'resolved' AND purged_at IS NULL \
             AND updated_at < $1 ORDER BY updated_at LIMIT $2";
        fetch!(self, SQL, fetch_all, cutoff, limit).context("finding tickets past their retention period")
    }

    /// How many set-aside mails received before `cutoff` still hold their content.
    pub async fn set_aside_to_purge(&self, cutoff: OffsetDateTime) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM messages WHERE ticket_id IS NULL AND direction = 'in' AND size > 0 AND received_at < $1";
        let (n,): (i64,) = fetch!(self, SQL, fetch_one, cutoff).context("counting set-aside mail")?;
        Ok(n)
    }

    /// Every ticket a person reported, and every mail from or to them (for an access request).
    pub async fn person_data(&self, address: &str) -> Result<(Vec<TicketRow>, Vec<MessageRow>)> {
        const TICKETS: &str = const_format::concatcp!(
            "SELECT ",
            super::read::TICKET_COLUMNS,
            " FROM tickets WHERE LOWER(reporter) = $1 OR id IN (SELECT ticket_id FROM messages WHERE LOWER(from_addr) = $1) ORDER BY id"
        );
        const MESSAGES: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE LOWER(from_addr) = $1 ORDER BY id";
        let address = address.trim().to_lowercase();
        let tickets = fetch!(self, TICKETS, fetch_all, &address).context("finding a person's tickets")?;
        let messages = fetch!(self, MESSAGES, fetch_all, &address).context("finding a person's mail")?;
        Ok((tickets, messages))
    }

    /// The raw text of a message (for an access request's copy).
    pub async fn message_text(&self, id: i64) -> Result<String> {
        const SQL: &str = "SELECT raw FROM messages WHERE id = $1";
        let (raw,): (Vec<u8>,) = fetch!(self, SQL, fetch_one, id).context("reading a message")?;
        Ok(String::from_utf8_lossy(&raw).into_owned())
    }
}

impl Tx {
    /// Removes a ticket's personal data and records that it did.
    pub async fn purge_ticket(&mut self, id: i64, at: OffsetDateTime, actor: &str, why: &str) -> Result<()> {
        const ATTACHMENTS: &str = "DELETE FROM attachments WHERE ticket_id = $1";
        // The dedup key stays: the same mail fetched again is still known, not a new ticket.
        const MESSAGES: &str =
            "UPDATE messages SET raw = $1, size = 0, from_addr = NULL, subject = '' WHERE ticket_id = $2";
        const OUTBOX: &str = "UPDATE outbox SET body = '', subject = '' WHERE ticket_id = $1 AND status <> 'queued'";
        // The reporter's address on the replies they got; the contacts' addresses are not theirs.
        const REPLIED_TO: &str = "DELETE FROM outbox_recipients WHERE outbox_id IN (SELECT id FROM outbox \
             WHERE ticket_id = $1 AND status <> 'queued' AND kind IN ('acknowledgement', 'request-info'))";
        const EVENTS: &str = "UPDATE ticket_events SET detail = '' WHERE ticket_id = $1";
        const TICKET: &str = "UPDATE tickets SET subject = $1, body = '', reporter = NULL, reporter_name = NULL, \
             reasons = '', missing = '', purged_at = $2 WHERE id = $3";
        // A group not confirmed by staff is titled after its first report's subject.
        const INCIDENT: &str = "UPDATE incidents SET title = $1 WHERE state <> 'confirmed' \
             AND id = (SELECT incident_id FROM tickets WHERE id = $2)";
        let empty: &[u8] = &[];
        let done = async {
            on_conn!(self, c => sqlx::query(ATTACHMENTS).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(MESSAGES).bind(empty).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(REPLIED_TO).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(OUTBOX).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(EVENTS).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(TICKET).bind(REMOVED).bind(at).bind(id).execute(c).await.map(drop))?;
            on_conn!(self, c => sqlx::query(INCIDENT).bind(REMOVED).bind(id).execute(c).await.map(drop))?;
            Ok::<_, sqlx::Error>(())
        };
        done.await.context("removing personal data")?;
        self.event(id, at, actor, "purged", why).await
    }

    /// Empties set-aside mail received before `cutoff`; returns how many.
    pub async fn purge_set_aside(&mut self, cutoff: OffsetDateTime) -> Result<u64> {
        const SQL: &str = "UPDATE messages SET raw = $1, size = 0, from_addr = NULL, subject = '' \
             WHERE ticket_id IS NULL AND direction = 'in' AND size > 0 AND received_at < $2";
        let empty: &[u8] = &[];
        on_conn!(self, c => sqlx::query(SQL).bind(empty).bind(cutoff).execute(c).await.map(|r| r.rows_affected()))
            .context("removing set-aside mail")
    }

    /// One line in the record of retention runs.
    pub async fn record_purge(
        &mut self,
        at: OffsetDateTime,
        actor: &str,
        tickets: i64,
        messages: i64,
        detail: &str,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO purge_runs (at, actor, tickets, messages, detail) VALUES ($1, $2, $3, $4, $5)";
        on_conn!(self, c => sqlx::query(SQL).bind(at).bind(actor).bind(tickets).bind(messages).bind(detail).execute(c).await.map(drop))
            .context("recording a retention run")
    }
}

impl Store {
    /// The newest retention runs: `(at, actor, tickets, messages)`.
    pub async fn purge_runs(&self, limit: i64) -> Result<Vec<(OffsetDateTime, String, i64, i64)>> {
        const SQL: &str = "SELECT at, actor, tickets, messages FROM purge_runs ORDER BY id DESC LIMIT $1";
        fetch!(self, SQL, fetch_all, limit).context("reading the retention record")
    }
}
