//! A write transaction on either backend. Everything one report causes — its ticket, messages,
//! attachments, audit events and outgoing mail — is written through one `Tx` and committed together.

use anyhow::{Context as _, Result};
use sqlx::{Postgres, Transaction};

pub use super::sqlite_tx::SqliteTx;
use crate::text::address::EmailAddress;
use time::OffsetDateTime;

pub struct Tx {
    pub(super) conn: TxConn,
    /// The store's outbox signal, given after a commit that queued mail.
    pub(super) wake: std::sync::Arc<tokio::sync::Notify>,
    pub(super) queued_mail: bool,
}

pub(super) enum TxConn {
    Sqlite(SqliteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs the same expression against the backend's connection (`$c`), whichever it is.
macro_rules! on_conn {
    ($tx:expr, $c:ident => $e:expr) => {
        match &mut $tx.conn {
            $crate::store::tx::TxConn::Sqlite(t) => {
                let $c = &mut ***t;
                $e
            }
            $crate::store::tx::TxConn::Postgres(t) => {
                let $c = &mut **t;
                $e
            }
        }
    };
}

pub struct NewMessage<'a> {
    pub direction: &'a str,
    pub dedup_key: &'a str,
    pub message_id: Option<&'a str>,
    pub verdict: &'a str,
    pub reason: Option<&'a str>,
    pub from_addr: Option<&'a str>,
    pub subject: &'a str,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub raw: &'a [u8],
    pub at: OffsetDateTime,
}

pub struct NewTicket<'a> {
    pub number: &'a str,
    pub status: &'a str,
    pub class: &'a str,
    pub confidence: f64,
    pub municipality: Option<&'a str>,
    pub urgent: bool,
    pub privacy: bool,
    pub missing: &'a str,
    pub subject: &'a str,
    pub reporter: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    pub route_to: &'a str,
    pub route_cc: &'a str,
    pub reasons: &'a str,
    /// The report's own text, for search and display.
    pub body: &'a str,
    /// Our receiving server's sender-authentication verdict, e.g. `dmarc=fail (by mx…)`.
    pub auth_result: Option<&'a str>,
    /// The vendor products the report names, comma-separated.
    pub products: &'a str,
    /// A known vendor issue the report is likely about: `title (stage) link`.
    pub vendor_issue: Option<&'a str>,
    pub at: OffsetDateTime,
}

pub struct NewAttachment<'a> {
    pub message_id: i64,
    pub ticket_id: Option<i64>,
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub screenshot: bool,
    pub inline: bool,
    pub data: &'a [u8],
}

pub struct NewOutbox<'a> {
    pub ticket_id: Option<i64>,
    pub kind: &'a str,
    pub message_id: &'a str,
    pub envelope_from: &'a str,
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
    pub in_reply_to: Option<&'a str>,
    pub report_message: Option<i64>,
    pub subject: &'a str,
    pub body: &'a str,
    pub status: &'a str,
    pub at: OffsetDateTime,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
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

    /// The next human-friendly ticket number of `year`: `RD-2026-000123`. The counter row is locked
    /// by the update, so concurrent instances never hand out the same number.
    pub async fn next_ticket_number(&mut self, year: i32) -> Result<String> {
        const SQL: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
        let name = format!("ticket-{year}");
        let (value,): (i64,) = on_conn!(self, c => sqlx::query_as(SQL).bind(&name).fetch_one(c).await)
            .context("allocating a ticket number")?;
        Ok(format!("RD-{year}-{value:06}"))
    }

    /// Records a mail; `None` when a mail with the same dedup key is already recorded.
    pub async fn insert_message(&mut self, m: &NewMessage<'_>, ticket_id: Option<i64>) -> Result<Option<i64>> {
        const SQL: &str = "INSERT INTO messages (ticket_id, direction, dedup_key, message_id, verdict, reason, from_addr, \
             subject, mailbox, uidvalidity, uid, size, raw, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id";
        let row: Option<(i64,)> = on_conn!(self, c => sqlx::query_as(SQL)
            .bind(ticket_id)
            .bind(m.direction)
            .bind(m.dedup_key)
            .bind(m.message_id)
            .bind(m.verdict)
            .bind(m.reason)
            .bind(m.from_addr)
            .bind(m.subject)
            .bind(m.mailbox)
            .bind(m.uidvalidity.map(i64::from))
            .bind(m.uid.map(i64::from))
            .bind(m.raw.len() as i64)
            .bind(m.raw)
            .bind(m.at)
            .fetch_optional(c)
            .await)
        .context("recording a message")?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_message_ticket(&mut self, message: i64, ticket_id: i64, verdict: &str) -> Result<()> {
        const SQL: &str = "UPDATE messages SET ticket_id = $1, verdict = $2 WHERE id = $3";
        on_conn!(self, c => sqlx::query(SQL).bind(ticket_id).bind(verdict).bind(message).execute(c).await.map(|r| r.rows_affected()))
            .context("linking a message to its ticket")?;
        Ok(())
    }

    pub async fn insert_ticket(&mut self, t: &NewTicket<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO tickets (number, status, class, confidence, municipality, urgent, privacy, missing, \
             subject, reporter, reporter_name, route_to, route_cc, reasons, body, auth_result, products, vendor_issue, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id";
        let (id,): (i64,) = on_conn!(self, c => sqlx::query_as(SQL)
            .bind(t.number)
            .bind(t.status)
            .bind(t.class)
            .bind(t.confidence)
            .bind(t.municipality)
            .bind(t.urgent)
            .bind(t.privacy)
            .bind(t.missing)
            .bind(t.subject)
            .bind(t.reporter)
            .bind(t.reporter_name)
            .bind(t.route_to)
            .bind(t.route_cc)
            .bind(t.reasons)
            .bind(t.body)
            .bind(t.auth_result)
            .bind(t.products)
            .bind(t.vendor_issue)
            .bind(t.at)
            .fetch_one(c)
            .await)
        .context("creating a ticket")?;
        Ok(id)
    }

    pub async fn insert_attachment(&mut self, a: &NewAttachment<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO attachments (message_id, ticket_id, filename, content_type, size, width, height, \
             screenshot, inline, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
        let (id,): (i64,) = on_conn!(self, c => sqlx::query_as(SQL)
            .bind(a.message_id)
            .bind(a.ticket_id)
            .bind(a.filename)
            .bind(a.content_type)
            .bind(a.data.len() as i64)
            .bind(a.width)
            .bind(a.height)
            .bind(a.screenshot)
            .bind(a.inline)
            .bind(a.data)
            .fetch_one(c)
            .await)
        .context("storing an attachment")?;
        Ok(id)
    }

    /// Appends to the ticket's audit trail.
    pub async fn event(
        &mut self,
        ticket_id: i64,
        at: OffsetDateTime,
        actor: &str,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO ticket_events (ticket_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)";
        on_conn!(self, c => sqlx::query(SQL).bind(ticket_id).bind(at).bind(actor).bind(kind).bind(detail).execute(c).await.map(|r| r.rows_affected()))
            .context("recording an event")?;
        Ok(())
    }

    /// Queues a mail with its recipients, each a row of its own.
    pub async fn insert_outbox(&mut self, o: &NewOutbox<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO outbox (ticket_id, kind, message_id, envelope_from, in_reply_to, \
             report_message, subject, body, status, attempts, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10) RETURNING id";
        const RECIPIENT: &str =
            "INSERT INTO outbox_recipients (outbox_id, role, position, address) VALUES ($1, $2, $3, $4)";
        anyhow::ensure!(!o.to.is_empty(), "an outgoing mail needs at least one recipient");
        self.queued_mail = true;
        let (id,): (i64,) = on_conn!(self, c => sqlx::query_as(SQL)
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
        let list = o.to.iter().map(|a| ("to", a)).enumerate().chain(o.cc.iter().map(|a| ("cc", a)).enumerate());
        for (position, (role, address)) in list {
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            on_conn!(self, c => sqlx::query(RECIPIENT).bind(id).bind(role).bind(position).bind(address.as_str()).execute(c).await.map(drop))
                .context("queueing an outgoing mail's recipients")?;
        }
        Ok(id)
    }

    /// Records how far a mailbox has been processed.
    pub async fn set_mailbox_state(
        &mut self,
        mailbox: &str,
        uidvalidity: u32,
        last_uid: u32,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = $2, last_uid = $3, updated_at = $4";
        on_conn!(self, c => sqlx::query(SQL)
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
                let row: Option<(i64,)> = on_conn!(self, c => sqlx::query_as(sql).bind(id).fetch_optional(c).await)
                    .context("looking up a thread")?;
                if let Some((t,)) = row {
                    return Ok(Some(t));
                }
            }
        }
        Ok(None)
    }

    /// Everyone a ticket has to do with besides staff: its reporter, the addresses it is routed to,
    /// and every recipient of the mail sent about it (contacts, helpdesk, data-protection contacts).
    pub async fn ticket_parties(&mut self, ticket_id: i64) -> Result<Vec<EmailAddress>> {
        const TICKET: &str = "SELECT reporter, route_to, route_cc FROM tickets WHERE id = $1";
        const SENT_TO: &str = "SELECT DISTINCT r.address FROM outbox_recipients r JOIN outbox o ON o.id = r.outbox_id \
             WHERE o.ticket_id = $1";
        let row: Option<(Option<String>, String, String)> =
            on_conn!(self, c => sqlx::query_as(TICKET).bind(ticket_id).fetch_optional(c).await)
                .context("reading a ticket's parties")?;
        let sent: Vec<(String,)> = on_conn!(self, c => sqlx::query_as(SENT_TO).bind(ticket_id).fetch_all(c).await)
            .context("reading a ticket's recipients")?;
        let (reporter, to, cc) = row.unwrap_or_default();
        // route_to and route_cc hold addresses routedesk itself checked and joined for display.
        let listed = to.split(',').chain(cc.split(',')).map(str::to_string);
        Ok(reporter
            .into_iter()
            .chain(listed)
            .chain(sent.into_iter().map(|(a,)| a))
            .filter_map(|a| EmailAddress::parse(a.trim()).ok())
            .collect())
    }

    /// Whether `address` belongs to an enabled staff account.
    pub async fn is_staff_address(&mut self, address: &EmailAddress) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM users WHERE LOWER(email) = $1 AND NOT disabled";
        let (n,): (i64,) = on_conn!(self, c => sqlx::query_as(SQL).bind(address.as_str()).fetch_one(c).await)
            .context("looking up a staff address")?;
        Ok(n > 0)
    }

    /// `(id, status, missing, reporter)` of a ticket by its number.
    pub async fn ticket_brief(&mut self, number: &str) -> Result<Option<TicketBrief>> {
        const SQL: &str =
            "SELECT id, number, status, missing, reporter, class, municipality FROM tickets WHERE number = $1";
        on_conn!(self, c => sqlx::query_as(SQL).bind(number).fetch_optional(c).await).context("reading a ticket")
    }

    pub async fn ticket_brief_by_id(&mut self, id: i64) -> Result<Option<TicketBrief>> {
        const SQL: &str =
            "SELECT id, number, status, missing, reporter, class, municipality FROM tickets WHERE id = $1";
        on_conn!(self, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await).context("reading a ticket")
    }

    /// The raw report that opened a ticket, and its message row id.
    pub async fn opening_message(&mut self, ticket_id: i64) -> Result<Option<(i64, Vec<u8>)>> {
        const SQL: &str =
            "SELECT id, raw FROM messages WHERE ticket_id = $1 AND verdict = 'ticket' ORDER BY id LIMIT 1";
        on_conn!(self, c => sqlx::query_as(SQL).bind(ticket_id).fetch_optional(c).await).context("reading the report")
    }

    pub async fn update_ticket_state(
        &mut self,
        id: i64,
        status: &str,
        missing: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET status = $1, missing = $2, updated_at = $3 WHERE id = $4";
        on_conn!(self, c => sqlx::query(SQL).bind(status).bind(missing).bind(at).bind(id).execute(c).await.map(|r| r.rows_affected()))
            .context("updating a ticket")?;
        Ok(())
    }

    /// The known vendor issue recorded on a ticket.
    pub async fn ticket_vendor_issue(&mut self, ticket: i64) -> Result<Option<String>> {
        const SQL: &str = "SELECT vendor_issue FROM tickets WHERE id = $1";
        let row: Option<(Option<String>,)> =
            on_conn!(self, c => sqlx::query_as(SQL).bind(ticket).fetch_optional(c).await)
                .context("reading a ticket")?;
        Ok(row.and_then(|r| r.0))
    }

    /// Automatic replies queued to the single address `address` since `since` (the per-sender
    /// rate limit counts each address, whatever else a mail went to).
    pub async fn replies_to_since(&mut self, address: &EmailAddress, since: OffsetDateTime) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox_recipients r JOIN outbox o ON o.id = r.outbox_id \
             WHERE r.address = $1 AND o.kind IN ('acknowledgement', 'request-info') AND o.created_at > $2";
        let (n,): (i64,) =
            on_conn!(self, c => sqlx::query_as(SQL).bind(address.as_str()).bind(since).fetch_one(c).await)
                .context("counting replies")?;
        Ok(n)
    }

    /// Whether a ticket has already had an automatic reply to `address`.
    pub async fn ticket_replied_to(&mut self, ticket_id: i64, address: &EmailAddress) -> Result<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox_recipients r JOIN outbox o ON o.id = r.outbox_id \
             WHERE o.ticket_id = $1 AND r.address = $2 AND o.kind IN ('acknowledgement', 'request-info')";
        let (n,): (i64,) =
            on_conn!(self, c => sqlx::query_as(SQL).bind(ticket_id).bind(address.as_str()).fetch_one(c).await)
                .context("checking earlier replies")?;
        Ok(n > 0)
    }
}

impl Tx {
    /// Sets one staff-editable field of a ticket (`class`, `municipality`, `status`).
    pub async fn set_ticket_field(
        &mut self,
        id: i64,
        field: TicketField,
        value: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<()> {
        let sql = match field {
            TicketField::Class => "UPDATE tickets SET class = $1, updated_at = $2 WHERE id = $3",
            TicketField::Municipality => "UPDATE tickets SET municipality = $1, updated_at = $2 WHERE id = $3",
            TicketField::Status => "UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3",
        };
        on_conn!(self, c => sqlx::query(sql).bind(value).bind(at).bind(id).execute(c).await.map(|r| r.rows_affected()))
            .context("updating a ticket")?;
        Ok(())
    }

    pub async fn set_ticket_route(
        &mut self,
        id: i64,
        to: &str,
        cc: &str,
        status: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE tickets SET route_to = $1, route_cc = $2, status = $3, missing = '', updated_at = $4 WHERE id = $5";
        on_conn!(self, c => sqlx::query(SQL).bind(to).bind(cc).bind(status).bind(at).bind(id).execute(c).await.map(|r| r.rows_affected()))
            .context("re-routing a ticket")?;
        Ok(())
    }

    /// Links two tickets as the same fault, both ways; `false` if they were linked already.
    pub async fn link_tickets(&mut self, a: i64, b: i64) -> Result<bool> {
        const SQL: &str = "INSERT INTO ticket_links (ticket_id, other_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let n = on_conn!(self, c => sqlx::query(SQL).bind(a).bind(b).execute(c).await.map(|r| r.rows_affected()))
            .context("linking tickets")?;
        on_conn!(self, c => sqlx::query(SQL).bind(b).bind(a).execute(c).await.map(|r| r.rows_affected()))
            .context("linking tickets")?;
        Ok(n > 0)
    }

    /// A recorded mail without a ticket (ignored or quarantined), with its raw bytes.
    pub async fn untracked_message(&mut self, id: i64) -> Result<Option<(i64, Vec<u8>)>> {
        const SQL: &str = "SELECT id, raw FROM messages WHERE id = $1 AND ticket_id IS NULL AND direction = 'in'";
        on_conn!(self, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await).context("reading a message")
    }
}

/// Ticket fields staff may change.
#[derive(Debug, Clone, Copy)]
pub enum TicketField {
    Class,
    Municipality,
    Status,
}

impl Tx {
    /// Records how an attempt to send a queued mail ended; `false` when the mail is no longer
    /// queued (withdrawn while it was being sent: its texts were removed, nothing is recorded).
    pub(super) async fn exec_outbox_status(
        &mut self,
        id: i64,
        status: &str,
        next_attempt_at: Option<OffsetDateTime>,
        error: Option<&str>,
        sent_at: Option<OffsetDateTime>,
    ) -> Result<bool> {
        const SQL: &str = "UPDATE outbox SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             last_error = COALESCE($3, last_error), sent_at = $4, locked_until = NULL WHERE id = $5 AND status = 'queued'";
        on_conn!(self, c => sqlx::query(SQL)
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

/// The few ticket fields the intake needs to thread a reply.
#[derive(Debug, Clone)]
pub struct TicketBrief {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub missing: String,
    pub reporter: Option<String>,
    pub class: String,
    pub municipality: Option<String>,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for TicketBrief
where
    &'static str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(r: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            status: r.try_get("status")?,
            missing: r.try_get("missing")?,
            reporter: r.try_get("reporter")?,
            class: r.try_get("class")?,
            municipality: r.try_get("municipality")?,
        })
    }
}
