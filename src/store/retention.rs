//! Data retention (GDPR art. 5(1)(e)): resolved tickets past the policy's period lose their personal
//! data — report text, reporter, mail, attachments, notes — and keep what the statistics need
//! (number, class, municipality, status, dates); an unconfirmed group of reports titled after one
//! loses that title too. Mail set aside (ignored, quarantined) loses its
//! content after its own period. Every run is recorded; every ticket gets a `purged` event.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use super::messages::MessageRow;
use super::tickets::TicketRow;
use crate::domain::event::Event;

/// What stands in for a removed subject.
pub const REMOVED: &str = "[personal data removed]";

/// What an outgoing mail keeps once its texts are removed. Its error is removed too (a refusal can
/// quote addresses and subjects); mail still queued is withdrawn, never sent empty.
pub(super) const EMPTIED_MAIL: &str = "subject = '', body = '', last_error = NULL, \
     status = CASE WHEN status = 'queued' THEN 'withdrawn' ELSE status END, locked_until = NULL";

/// `text` for a `LIKE … ESCAPE '\'` pattern, its wildcards (`%`, `_`) taken literally.
pub(super) fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether `body` names the ticket `number` itself (not a longer number that starts the same).
fn names_ticket(body: &str, number: &str) -> bool {
    body.match_indices(number).any(|(i, _)| !body[i + number.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Which tickets a retention run purges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unkept {
    /// Resolved tickets, counted from their last change.
    Resolved,
    /// Tickets never resolved (left waiting, or forgotten), counted from their last change.
    NeverResolved,
}

impl Store {
    /// Tickets of the kind last changed before `cutoff` that still hold personal data, oldest first.
    pub async fn purge_candidates(
        &self,
        kind: Unkept,
        cutoff: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<(i64, String)>> {
        // Written as the partial indexes `tickets_unpurged` and `tickets_open_unpurged` are, so
        // the index serves each.
        const RESOLVED: &str = "SELECT id, number FROM tickets WHERE status = 'resolved' AND purged_at IS NULL \
             AND updated_at < $1 ORDER BY updated_at LIMIT $2";
        const OPEN: &str = "SELECT id, number FROM tickets WHERE status <> 'resolved' AND purged_at IS NULL \
             AND updated_at < $1 ORDER BY updated_at LIMIT $2";
        let sql = match kind {
            Unkept::Resolved => RESOLVED,
            Unkept::NeverResolved => OPEN,
        };
        db!(self, fetch_all, sql, cutoff, limit).context("finding tickets past their retention period")
    }

    /// How many set-aside mails received before `cutoff` still hold their content.
    pub async fn set_aside_to_purge(&self, cutoff: OffsetDateTime) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM messages WHERE ticket_id IS NULL AND direction = 'in' AND size > 0 AND received_at < $1";
        let (n,): (i64,) = db!(self, fetch_one, SQL, cutoff).context("counting set-aside mail")?;
        Ok(n)
    }

    /// Every ticket a person reported, and every mail from or to them (for an access request).
    pub async fn person_data(&self, address: &str) -> Result<(Vec<TicketRow>, Vec<MessageRow>)> {
        const TICKETS: &str = const_format::concatcp!(
            "SELECT ",
            super::tickets::TICKET_COLUMNS,
            " FROM tickets WHERE LOWER(reporter) = $1 OR id IN (SELECT ticket_id FROM messages WHERE LOWER(from_addr) = $1) ORDER BY id"
        );
        const MESSAGES: &str = "SELECT id, ticket_id, direction, message_id, verdict, reason, from_addr, subject, size, received_at \
             FROM messages WHERE LOWER(from_addr) = $1 ORDER BY id";
        let address = address.trim().to_lowercase();
        let tickets = db!(self, fetch_all, TICKETS, &address).context("finding a person's tickets")?;
        let messages = db!(self, fetch_all, MESSAGES, &address).context("finding a person's mail")?;
        Ok((tickets, messages))
    }

    /// The newest retention runs.
    pub async fn purge_runs(&self, limit: i64) -> Result<Vec<PurgeRun>> {
        const SQL: &str = "SELECT at, actor, tickets, messages FROM purge_runs ORDER BY id DESC LIMIT $1";
        db!(self, fetch_all, SQL, limit).context("reading the retention record")
    }
}

/// One retention or erasure run, as recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PurgeRun {
    pub at: OffsetDateTime,
    pub actor: String,
    /// Tickets whose data was removed.
    pub tickets: i64,
    /// Mail without a ticket that was removed.
    pub messages: i64,
}

impl Tx {
    /// Removes a ticket's personal data and records that it did.
    pub async fn purge_ticket(&mut self, id: i64, at: OffsetDateTime, actor: &str, why: &Event) -> Result<()> {
        self.remove_ticket_data(id, at).await?;
        self.record(id, at, actor, why).await
    }

    /// Removes what a ticket holds of its reporter and their report — the report text and subject,
    /// the reporter, every mail's content, the files, the texts of the mail sent about it (queued
    /// mail is withdrawn: it would go out empty), the details of its audit trail — and every copy
    /// of its subject or reporter elsewhere: the title of a group named after it, the mail about a
    /// suspected incident that lists it, the note on a ticket it mentioned. Keeps what the
    /// statistics need: number, status, class, municipality, flags and dates. Returns the other
    /// tickets it changed (those whose incident mail listed it).
    pub(super) async fn remove_ticket_data(&mut self, id: i64, at: OffsetDateTime) -> Result<Vec<i64>> {
        self.flush_events().await?;
        const ATTACHMENTS: &str = "DELETE FROM attachments WHERE ticket_id = $1";
        // The dedup key stays: the same mail fetched again is still known, not a new ticket.
        const MESSAGES: &str =
            "UPDATE messages SET raw = $1, size = 0, from_addr = NULL, subject = '' WHERE ticket_id = $2";
        // The reporter's address on the replies they got; the contacts' addresses are not theirs.
        const REPLIED_TO: &str = "DELETE FROM outbox_recipients WHERE outbox_id IN (SELECT id FROM outbox \
             WHERE ticket_id = $1 AND kind IN ('acknowledgement', 'request-info'))";
        const OUTBOX: &str = const_format::concatcp!("UPDATE outbox SET ", EMPTIED_MAIL, " WHERE ticket_id = $1");
        const EVENTS: &str = "UPDATE ticket_events SET detail = '' WHERE ticket_id = $1";
        // A ticket this one mentioned (its `mentions` event names it) notes who sent this one:
        // `RD-… from x@y mentions this ticket` as written before entries were data, or the entry
        // `{"event":"mentioned","by":"RD-…","from":"x@y"}`; both become the entry without the sender.
        const MENTIONS: &str = "SELECT detail FROM ticket_events WHERE ticket_id = $1 AND kind = 'mentions'";
        const MENTIONED: &str = "UPDATE ticket_events SET detail = $1 WHERE ticket_id = (SELECT id FROM tickets \
             WHERE number = $2) AND kind = 'mentioned' AND (detail LIKE $3 ESCAPE '\\' OR detail LIKE $4 ESCAPE '\\')";
        // A group not confirmed by staff is titled after its first report's subject (staff write the
        // title of a confirmed incident); the group may have lost that report since.
        const INCIDENT: &str = "UPDATE incidents SET title = $1 WHERE state <> 'confirmed' \
             AND (id = (SELECT incident_id FROM tickets WHERE id = $2) OR title = (SELECT subject FROM tickets WHERE id = $2))";
        const TICKET: &str = "UPDATE tickets SET subject = $1, body = '', reporter = NULL, reporter_name = NULL, \
             reasons = '', missing = '', purged_at = $2 WHERE id = $3";
        const NUMBER: &str = "SELECT number FROM tickets WHERE id = $1";
        let empty: &[u8] = &[];
        let (number,): (String,) = db!(self, c => sqlx::query_as(NUMBER).bind(id).fetch_one(c).await)
            .context("reading the ticket to purge")?;
        let mentions: Vec<(String,)> = db!(self, c => sqlx::query_as(MENTIONS).bind(id).fetch_all(c).await)
            .context("reading the ticket to purge")?;
        let done = async {
            db!(self, c => sqlx::query(ATTACHMENTS).bind(id).execute(c).await.map(drop))?;
            db!(self, c => sqlx::query(MESSAGES).bind(empty).bind(id).execute(c).await.map(drop))?;
            db!(self, c => sqlx::query(REPLIED_TO).bind(id).execute(c).await.map(drop))?;
            db!(self, c => sqlx::query(OUTBOX).bind(id).execute(c).await.map(drop))?;
            db!(self, c => sqlx::query(EVENTS).bind(id).execute(c).await.map(drop))?;
            let mentioned = Event::Mentioned { by: number.clone(), from: None }.to_stored();
            let written = format!("{} from %", like_escaped(&number));
            let stored = format!("{}%", like_escaped(&crate::domain::event::mentioned_prefix(&number)));
            for other in mentions.iter().filter_map(|(detail,)| crate::domain::ticket_number::first_in(detail)) {
                db!(self, c => sqlx::query(MENTIONED).bind(&mentioned).bind(&other).bind(&written).bind(&stored).execute(c).await.map(drop))?;
            }
            db!(self, c => sqlx::query(INCIDENT).bind(REMOVED).bind(id).execute(c).await.map(drop))?;
            db!(self, c => sqlx::query(TICKET).bind(REMOVED).bind(at).bind(id).execute(c).await.map(drop))?;
            Ok::<_, sqlx::Error>(())
        };
        done.await.context("removing personal data")?;
        self.clear_incident_mails(&number).await
    }

    /// Empties the mail about a suspected incident that lists ticket `number` (it quotes the
    /// subject of each report), wherever it is kept: the outbox row and the copy of the mail sent.
    /// Returns the tickets the mail was about.
    async fn clear_incident_mails(&mut self, number: &str) -> Result<Vec<i64>> {
        const LISTING: &str =
            "SELECT id, message_id, body, ticket_id FROM outbox WHERE kind = 'incident' AND body LIKE $1 ESCAPE '\\'";
        const OUTBOX: &str = const_format::concatcp!("UPDATE outbox SET ", EMPTIED_MAIL, " WHERE id = $1");
        const SENT: &str =
            "UPDATE messages SET raw = $1, size = 0, subject = '' WHERE direction = 'out' AND message_id = $2";
        let pattern = format!("%{}%", like_escaped(number));
        let mails: Vec<(i64, String, String, Option<i64>)> =
            db!(self, c => sqlx::query_as(LISTING).bind(&pattern).fetch_all(c).await)
                .context("finding the mail about an incident")?;
        let empty: &[u8] = &[];
        let mut tickets = Vec::new();
        for (id, message_id, _, ticket) in mails.iter().filter(|(_, _, body, _)| names_ticket(body, number)) {
            db!(self, c => sqlx::query(OUTBOX).bind(id).execute(c).await.map(drop))
                .context("emptying the mail about an incident")?;
            db!(self, c => sqlx::query(SENT).bind(empty).bind(message_id).execute(c).await.map(drop))
                .context("emptying the mail about an incident")?;
            tickets.extend(*ticket);
        }
        Ok(tickets)
    }

    /// Empties set-aside mail received before `cutoff`; returns how many.
    pub async fn purge_set_aside(&mut self, cutoff: OffsetDateTime) -> Result<u64> {
        const SQL: &str = "UPDATE messages SET raw = $1, size = 0, from_addr = NULL, subject = '' \
             WHERE ticket_id IS NULL AND direction = 'in' AND size > 0 AND received_at < $2";
        let empty: &[u8] = &[];
        db!(self, c => sqlx::query(SQL).bind(empty).bind(cutoff).execute(c).await.map(|r| r.rows_affected()))
            .context("removing set-aside mail")
    }

    /// Removes the audit log's entries from before `cutoff`. The database refuses any other removal:
    /// the cut is recorded first, in this transaction, and its trigger lets only older rows go.
    pub async fn purge_audit_log(&mut self, cutoff: OffsetDateTime) -> Result<u64> {
        db!(self, c => sqlx::query("UPDATE audit_log_cut SET purge_before = $1 WHERE id = 1").bind(cutoff).execute(c).await.map(drop))
            .context("recording the audit log's cut")?;
        db!(self, c => sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(cutoff).execute(c).await.map(|r| r.rows_affected()))
            .context("removing old audit log entries")
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
        db!(self, c => sqlx::query(SQL).bind(at).bind(actor).bind(tickets).bind(messages).bind(detail).execute(c).await.map(drop))
            .context("recording a retention run")
    }
}

#[cfg(test)]
mod tests {
    use super::{like_escaped, names_ticket};

    #[test]
    fn ticket_numbers_are_found_whole() {
        assert!(names_ticket("  - RD-2026-000123 (Gjøvik): x", "RD-2026-000123"));
        assert!(!names_ticket("  - RD-2026-0001234 (Gjøvik): x", "RD-2026-000123"));
        assert_eq!(like_escaped("a_b%c\\d"), "a\\_b\\%c\\\\d");
    }
}
