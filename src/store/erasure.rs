//! Erasing one person's data on their request (GDPR art. 17): the tickets they reported lose their
//! personal data as in a purge; their mail anywhere (raw mail, subject, sender, files) and the mail
//! sent to them (texts, their place among its recipients) is emptied; entries of the audit trail
//! that name them lose their details; any other text that names their address — another report,
//! the mail about it, an incident's title or timeline, a privacy case's report — has the address
//! replaced. Statistics (tickets, their status, class, municipality, dates) are left as they were.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Backend;
use super::Store;
use super::Tx;
use super::retention::EMPTIED_MAIL;
use super::retention::like_escaped;
use crate::text::address::EmailAddress;

/// What stands in for an erased person's address in a text that stays.
pub const ADDRESS_REMOVED: &str = "[address removed]";

/// What an erasure removed (or, dry, would remove).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Erased {
    /// The tickets they reported (or opened with their mail): personal data removed as in a purge.
    pub tickets: Vec<String>,
    /// Mails emptied: every mail of their tickets, and theirs elsewhere.
    pub messages: u64,
    /// Mails sent to them, emptied.
    pub sent_to: u64,
    /// Other records that named their address: audit-trail entries emptied, texts with the address
    /// replaced.
    pub mentions: u64,
    /// Tickets touched, their own included (each gets an `erased` event).
    pub affected: Vec<i64>,
}

/// Texts that can name a person besides their own records: `(table, column)`, each table with an
/// `id` key and, where it has one, the ticket it belongs to.
const TEXTS: &[(&str, &str, Option<&str>)] = &[
    ("tickets", "subject", Some("id")),
    ("tickets", "body", Some("id")),
    ("tickets", "reasons", Some("id")),
    ("tickets", "route_to", Some("id")),
    ("tickets", "route_cc", Some("id")),
    ("messages", "subject", Some("ticket_id")),
    ("messages", "reason", Some("ticket_id")),
    ("outbox", "subject", Some("ticket_id")),
    ("outbox", "body", Some("ticket_id")),
    ("outbox", "last_error", Some("ticket_id")),
    ("incidents", "title", None),
    ("incident_updates", "body", None),
    ("privacy_incidents", "timeline", Some("ticket_id")),
    ("privacy_incidents", "root_cause", Some("ticket_id")),
    ("privacy_incidents", "data_subjects", Some("ticket_id")),
    ("privacy_incidents", "personal_data", Some("ticket_id")),
    ("privacy_incidents", "mitigation", Some("ticket_id")),
    ("privacy_incidents", "review_note", Some("ticket_id")),
    ("privacy_incidents", "vendor_answer", Some("ticket_id")),
];

/// `text` with every occurrence of `needle` (ASCII, any case) replaced by [`ADDRESS_REMOVED`].
fn replace_ignoring_case(text: &[u8], needle: &str) -> Vec<u8> {
    let n = needle.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text.len() - i >= n.len() && text[i..i + n.len()].eq_ignore_ascii_case(n) {
            out.extend_from_slice(ADDRESS_REMOVED.as_bytes());
            i += n.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

impl Store {
    /// The mails whose raw text names `person` (as written, in any case; a copy encoded as base64
    /// is not found). Read before the erasure's transaction: it reads every stored mail, and the
    /// write lock is not held meanwhile.
    pub async fn mail_naming(&self, person: &EmailAddress) -> Result<Vec<i64>> {
        const SQLITE: &str =
            "SELECT id FROM messages WHERE size > 0 AND CAST(raw AS TEXT) LIKE $1 ESCAPE '\\' ORDER BY id";
        const POSTGRES: &str =
            "SELECT id FROM messages WHERE size > 0 AND LOWER(encode(raw, 'escape')) LIKE $1 ESCAPE '\\' ORDER BY id";
        let pattern = format!("%{}%", like_escaped(person.as_str()));
        let sql = match self.backend() {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        };
        let rows: Vec<(i64,)> = db!(self, fetch_all, sql, &pattern).context("finding mail that names the person")?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}

impl Tx {
    /// Removes everything the store holds of `person` (see the module); `naming` are the mails
    /// [`Store::mail_naming`] found. Records an `erased` event on every ticket touched, without the
    /// address; the caller records the run.
    pub async fn erase_person(
        &mut self,
        person: &EmailAddress,
        naming: &[i64],
        at: OffsetDateTime,
        actor: &str,
    ) -> Result<Erased> {
        self.flush_events().await?;
        const THEIR_TICKETS: &str = "SELECT id, number FROM tickets WHERE LOWER(reporter) = $1 OR id IN \
             (SELECT ticket_id FROM messages WHERE LOWER(from_addr) = $1 AND verdict = 'ticket' AND ticket_id IS NOT NULL) \
             ORDER BY id";
        const KEPT_MAIL: &str = "SELECT COUNT(*) FROM messages WHERE ticket_id = $1 AND size > 0";
        const THEIR_MAIL_TICKETS: &str =
            "SELECT DISTINCT ticket_id FROM messages WHERE LOWER(from_addr) = $1 AND ticket_id IS NOT NULL";
        const THEIR_FILES: &str =
            "DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE LOWER(from_addr) = $1)";
        const THEIR_MAIL: &str =
            "UPDATE messages SET raw = $1, size = 0, from_addr = NULL, subject = '' WHERE LOWER(from_addr) = $2";
        const SENT_TO: &str = "SELECT DISTINCT o.id, o.ticket_id, o.message_id FROM outbox o \
             JOIN outbox_recipients r ON r.outbox_id = o.id WHERE r.address = $1";
        const EMPTY_SENT: &str = const_format::concatcp!("UPDATE outbox SET ", EMPTIED_MAIL, " WHERE id = $1");
        const SENT_COPY: &str =
            "UPDATE messages SET raw = $1, size = 0, subject = '' WHERE direction = 'out' AND message_id = $2";
        const RECIPIENT: &str = "DELETE FROM outbox_recipients WHERE address = $1";
        // The reconciliation's list names the sender of mail found on the server; the next run
        // finds none of it (the erasure expunges the copies).
        const UNMATCHED: &str = "DELETE FROM reconcile_findings WHERE LOWER(from_addr) = $1";
        const BLOCKED: &str = "DELETE FROM blocked_addresses WHERE address = $1";
        const NAMED_IN_EVENTS: &str =
            "SELECT DISTINCT ticket_id FROM ticket_events WHERE LOWER(detail) LIKE $1 ESCAPE '\\'";
        const EVENTS: &str = "UPDATE ticket_events SET detail = '' WHERE LOWER(detail) LIKE $1 ESCAPE '\\'";

        let address = person.as_str();
        let pattern = format!("%{}%", like_escaped(address));
        let empty: &[u8] = &[];
        let mut out = Erased::default();

        // The tickets they reported: as a purge leaves them.
        let theirs: Vec<(i64, String)> = db!(self, c => sqlx::query_as(THEIR_TICKETS).bind(address).fetch_all(c).await)
            .context("finding the person's tickets")?;
        for (id, _) in &theirs {
            self.forget_examples(*id).await?;
            let (n,): (i64,) = db!(self, c => sqlx::query_as(KEPT_MAIL).bind(id).fetch_one(c).await)
                .context("counting the person's mail")?;
            out.messages += u64::try_from(n).unwrap_or(0);
            let others = self.remove_ticket_data(*id, at).await?;
            out.affected.extend(others);
        }
        out.affected.extend(theirs.iter().map(|(id, _)| *id));
        out.tickets = theirs.into_iter().map(|(_, n)| n).collect();

        // Their mail anywhere else (an answer on another ticket, mail set aside), with its files.
        let elsewhere: Vec<(i64,)> =
            db!(self, c => sqlx::query_as(THEIR_MAIL_TICKETS).bind(address).fetch_all(c).await)
                .context("finding the person's mail")?;
        out.affected.extend(elsewhere.into_iter().map(|(t,)| t));
        db!(self, c => sqlx::query(THEIR_FILES).bind(address).execute(c).await.map(drop))
            .context("removing the person's files")?;
        out.messages += db!(self, c => sqlx::query(THEIR_MAIL).bind(empty).bind(address).execute(c).await.map(|r| r.rows_affected()))
            .context("emptying the person's mail")?;

        // Mail sent to them: its texts and its copy, and their place among its recipients.
        let sent: Vec<(i64, Option<i64>, String)> =
            db!(self, c => sqlx::query_as(SENT_TO).bind(address).fetch_all(c).await)
                .context("finding the mail sent to the person")?;
        for (id, ticket, message_id) in &sent {
            db!(self, c => sqlx::query(EMPTY_SENT).bind(id).execute(c).await.map(drop))
                .context("emptying the mail sent to the person")?;
            db!(self, c => sqlx::query(SENT_COPY).bind(empty).bind(message_id).execute(c).await.map(drop))
                .context("emptying the mail sent to the person")?;
            out.affected.extend(ticket);
        }
        out.sent_to = sent.len() as u64;
        db!(self, c => sqlx::query(RECIPIENT).bind(address).execute(c).await.map(drop))
            .context("removing the person from the recipients")?;
        db!(self, c => sqlx::query(UNMATCHED).bind(address).execute(c).await.map(drop))
            .context("removing the person from the reconciliation's list")?;
        db!(self, c => sqlx::query(BLOCKED).bind(address).execute(c).await.map(drop))
            .context("removing the person's bounce block")?;

        // Entries of the audit trail that name them lose their details.
        let named: Vec<(i64,)> = db!(self, c => sqlx::query_as(NAMED_IN_EVENTS).bind(&pattern).fetch_all(c).await)
            .context("finding the audit trail's mentions of the person")?;
        out.affected.extend(named.into_iter().map(|(t,)| t));
        out.mentions += db!(self, c => sqlx::query(EVENTS).bind(&pattern).execute(c).await.map(|r| r.rows_affected()))
            .context("emptying the audit trail's mentions of the person")?;

        // Every other text that names them keeps its words without the address.
        for (table, column, ticket) in TEXTS {
            let (n, tickets) = self.replace_address(table, column, *ticket, address, &pattern).await?;
            out.mentions += n;
            out.affected.extend(tickets);
        }
        let (n, tickets) = self.replace_address_in_mail(naming, address).await?;
        out.mentions += n;
        out.affected.extend(tickets);

        out.affected.sort_unstable();
        out.affected.dedup();
        for id in &out.affected {
            self.record(*id, at, actor, &crate::domain::event::Event::Erased).await?;
        }
        Ok(out)
    }

    /// Replaces `address` in `table.column` wherever it appears (any case); returns how many rows
    /// changed and the tickets they belong to.
    async fn replace_address(
        &mut self,
        table: &str,
        column: &str,
        ticket: Option<&str>,
        address: &str,
        pattern: &str,
    ) -> Result<(u64, Vec<i64>)> {
        let ticket_column = ticket.unwrap_or("CAST(NULL AS BIGINT)");
        let select = sqlx::AssertSqlSafe(format!(
            "SELECT id, {column}, {ticket_column} FROM {table} WHERE LOWER({column}) LIKE $1 ESCAPE '\\'"
        ));
        let rows: Vec<(i64, String, Option<i64>)> =
            db!(self, c => sqlx::query_as(select).bind(pattern).fetch_all(c).await)
                .with_context(|| format!("finding {table}.{column} naming the person"))?;
        let mut tickets = Vec::new();
        for (id, text, t) in &rows {
            let update = sqlx::AssertSqlSafe(format!("UPDATE {table} SET {column} = $1 WHERE id = $2"));
            let text = String::from_utf8_lossy(&replace_ignoring_case(text.as_bytes(), address)).into_owned();
            db!(self, c => sqlx::query(update).bind(&text).bind(id).execute(c).await.map(drop))
                .with_context(|| format!("removing the person's address from {table}.{column}"))?;
            tickets.extend(t);
        }
        Ok((rows.len() as u64, tickets))
    }

    /// Replaces `address` in those of the mails `ids` that name it (as written, in any case).
    async fn replace_address_in_mail(&mut self, ids: &[i64], address: &str) -> Result<(u64, Vec<i64>)> {
        const READ: &str = "SELECT raw, ticket_id FROM messages WHERE id = $1 AND size > 0";
        const UPDATE: &str = "UPDATE messages SET raw = $1, size = $2 WHERE id = $3";
        let mut changed = 0;
        let mut tickets = Vec::new();
        for id in ids {
            let row: Option<(Vec<u8>, Option<i64>)> =
                db!(self, c => sqlx::query_as(READ).bind(id).fetch_optional(c).await)
                    .context("reading a mail that names the person")?;
            let Some((raw, ticket)) = row else { continue };
            let redacted = replace_ignoring_case(&raw, address);
            if redacted == raw {
                continue;
            }
            let size = i64::try_from(redacted.len()).unwrap_or(i64::MAX);
            db!(self, c => sqlx::query(UPDATE).bind(&redacted).bind(size).bind(id).execute(c).await.map(drop))
                .context("removing the person's address from a mail")?;
            changed += 1;
            tickets.extend(ticket);
        }
        Ok((changed, tickets))
    }
}

#[cfg(test)]
mod tests {
    use super::replace_ignoring_case;

    #[test]
    fn the_address_is_replaced_in_any_case() {
        let out = replace_ignoring_case(
            "Kontakt: Kari.Rohne@Gjovik.kommune.no, kari.rohne@gjovik.kommune.no.".as_bytes(),
            "kari.rohne@gjovik.kommune.no",
        );
        assert_eq!(String::from_utf8_lossy(&out), "Kontakt: [address removed], [address removed].");
        assert_eq!(replace_ignoring_case(b"nothing here", "a@b.no"), b"nothing here");
    }
}
