//! Tickets: the row staff see, the fields the intake needs, their audit trail and links, and
//! every change to a ticket.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use super::tx::PendingEvent;
use super::types::{CommaList, join_list};
use crate::domain::event::Event;
use crate::domain::{Class, Detail, TicketStatus};
use crate::text::address::EmailAddress;

pub struct NewTicket<'a> {
    pub number: &'a str,
    pub status: TicketStatus,
    pub class: Class,
    pub confidence: f64,
    pub municipality: Option<&'a str>,
    pub urgent: bool,
    pub privacy: bool,
    pub missing: &'a [Detail],
    pub subject: &'a str,
    pub reporter: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    pub route_to: &'a [EmailAddress],
    pub route_cc: &'a [EmailAddress],
    pub reasons: &'a str,
    /// The report's own text, for search and display.
    pub body: &'a str,
    /// Our receiving server's sender-authentication verdict, e.g. `dmarc=fail (by mx…)`.
    pub auth_result: Option<&'a str>,
    /// The vendor products the report names.
    pub products: &'a [String],
    /// A known vendor issue the report is likely about: `title (stage) link`.
    pub vendor_issue: Option<&'a str>,
    /// The group of the same fault it joins.
    pub incident: Option<i64>,
    pub at: OffsetDateTime,
}

/// The few ticket fields the intake needs to thread a reply.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketBrief {
    pub id: i64,
    pub number: String,
    pub status: TicketStatus,
    #[sqlx(try_from = "CommaList")]
    pub missing: Vec<Detail>,
    pub reporter: Option<String>,
    pub class: Class,
    pub municipality: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub id: i64,
    pub number: String,
    pub status: TicketStatus,
    pub class: Class,
    pub confidence: f64,
    pub municipality: Option<String>,
    pub urgent: bool,
    pub privacy: bool,
    #[sqlx(try_from = "CommaList")]
    pub missing: Vec<Detail>,
    pub subject: String,
    pub reporter: Option<String>,
    pub reporter_name: Option<String>,
    #[sqlx(try_from = "CommaList")]
    pub route_to: Vec<String>,
    #[sqlx(try_from = "CommaList")]
    pub route_cc: Vec<String>,
    pub reasons: String,
    pub auth_result: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

/// What the dashboard counts: how many tickets one day has of one status, class and municipality,
/// and how many of them are urgent (a row of the counts kept by triggers, `ticket_counts`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketStat {
    /// The UTC day the tickets were created.
    pub day: time::Date,
    pub class: Class,
    /// Empty for none.
    pub municipality: String,
    pub status: TicketStatus,
    pub n: i64,
    pub urgent: i64,
}

/// The texts of a report that the grouping compares.
#[derive(Debug, Clone)]
pub struct ReportText {
    pub subject: String,
    pub body: String,
    /// The vendor products it names.
    pub products: Vec<String>,
}

impl From<(String, String, String)> for ReportText {
    fn from((subject, body, products): (String, String, String)) -> Self {
        ReportText { subject, body, products: super::types::split_list(&products) }
    }
}

pub(super) const TICKET_COLUMNS: &str = "id, number, status, class, confidence, municipality, urgent, privacy, missing, subject, \
     reporter, reporter_name, route_to, route_cc, reasons, auth_result, created_at, updated_at";

/// A ticket linked to another as the same fault.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedTicket {
    pub number: String,
    pub subject: String,
    pub status: TicketStatus,
    pub municipality: Option<String>,
}

impl Store {
    pub async fn ticket_by_number(&self, number: &str) -> Result<Option<TicketRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", TICKET_COLUMNS, " FROM tickets WHERE number = $1");
        db!(self, fetch_optional, SQL, number).context("reading a ticket")
    }

    /// Tickets, newest first.
    pub async fn tickets(&self, limit: i64) -> Result<Vec<TicketRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", TICKET_COLUMNS, " FROM tickets ORDER BY id DESC LIMIT $1");
        db!(self, fetch_all, SQL, limit).context("listing tickets")
    }

    pub async fn events_of(&self, ticket_id: i64) -> Result<Vec<EventRow>> {
        const SQL: &str = "SELECT id, at, actor, kind, detail FROM ticket_events WHERE ticket_id = $1 ORDER BY id";
        db!(self, fetch_all, SQL, ticket_id).context("reading a ticket's audit trail")
    }

    /// What the dashboard counts of the tickets created on `since` (a UTC day) and after: read from
    /// the per-day counts, a few rows a day, however many tickets there are.
    pub async fn ticket_stats_since(&self, since: time::Date, scope: Option<&str>) -> Result<Vec<TicketStat>> {
        const SQL: &str = "SELECT day, class, municipality, status, CAST(n AS BIGINT) AS n, \
             CAST(urgent AS BIGINT) AS urgent FROM ticket_counts WHERE day >= $1 AND n > 0 \
             AND ($2 IS NULL OR municipality = $2)";
        db!(self, fetch_all, SQL, since, scope).context("reading ticket statistics")
    }

    /// The tickets linked to this one, oldest first, with their municipality.
    pub async fn linked_tickets(&self, ticket_id: i64) -> Result<Vec<LinkedTicket>> {
        const SQL: &str = "SELECT t.number, t.subject, t.status, t.municipality FROM ticket_links l \
             JOIN tickets t ON t.id = l.other_id WHERE l.ticket_id = $1 ORDER BY t.id";
        db!(self, fetch_all, SQL, ticket_id).context("reading linked tickets")
    }

    /// The municipality of the ticket with this number: `None` when there is no such ticket,
    /// `Some(None)` when it belongs to none.
    pub async fn municipality_of(&self, number: &str) -> Result<Option<Option<String>>> {
        const SQL: &str = "SELECT municipality FROM tickets WHERE number = $1";
        let row: Option<(Option<String>,)> =
            db!(self, fetch_optional, SQL, number).context("reading a ticket's municipality")?;
        Ok(row.map(|r| r.0))
    }

    /// Subjects, report texts and products of the newest tickets (the grouping's word weights).
    pub async fn recent_texts(&self, limit: i64) -> Result<Vec<ReportText>> {
        const SQL: &str = "SELECT subject, body, products FROM tickets ORDER BY id DESC LIMIT $1";
        let rows: Vec<(String, String, String)> = db!(self, fetch_all, SQL, limit).context("reading recent reports")?;
        Ok(rows.into_iter().map(ReportText::from).collect())
    }
}

impl Tx {
    /// The next human-friendly ticket number of `year`: `RD-2026-000123`. The counter row is locked
    /// by the update, so concurrent instances never hand out the same number.
    pub async fn next_ticket_number(&mut self, year: i32) -> Result<String> {
        const SQL: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
        let name = format!("ticket-{year}");
        let (value,): (i64,) =
            db!(self, c => sqlx::query_as(SQL).bind(&name).fetch_one(c).await).context("allocating a ticket number")?;
        Ok(crate::domain::ticket_number::format(year, value))
    }

    pub async fn insert_ticket(&mut self, t: &NewTicket<'_>) -> Result<i64> {
        const SQL: &str = "INSERT INTO tickets (number, status, class, confidence, municipality, urgent, privacy, missing, \
             subject, reporter, reporter_name, route_to, route_cc, reasons, body, auth_result, products, vendor_issue, \
             incident_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20) RETURNING id";
        let (id,): (i64,) = db!(self, c => sqlx::query_as(SQL)
            .bind(t.number)
            .bind(t.status)
            .bind(t.class)
            .bind(t.confidence)
            .bind(t.municipality)
            .bind(t.urgent)
            .bind(t.privacy)
            .bind(join_list(t.missing.iter().map(|d| d.as_str())))
            .bind(t.subject)
            .bind(t.reporter)
            .bind(t.reporter_name)
            .bind(join_list(t.route_to.iter().map(EmailAddress::as_str)))
            .bind(join_list(t.route_cc.iter().map(EmailAddress::as_str)))
            .bind(t.reasons)
            .bind(t.body)
            .bind(t.auth_result)
            .bind(join_list(t.products.iter().map(String::as_str)))
            .bind(t.vendor_issue)
            .bind(t.incident)
            .bind(t.at)
            .fetch_one(c)
            .await)
        .context("creating a ticket")?;
        Ok(id)
    }

    /// Appends to the ticket's audit trail (written with the transaction's other events, in order;
    /// see [`Tx::flush_events`]).
    pub async fn event(
        &mut self,
        ticket_id: i64,
        at: OffsetDateTime,
        actor: &str,
        kind: &str,
        detail: &str,
    ) -> Result<()> {
        self.events.push(PendingEvent {
            ticket_id,
            at,
            actor: actor.to_string(),
            kind: kind.to_string(),
            detail: detail.to_string(),
        });
        Ok(())
    }

    /// An entry of the audit trail that is data (see [`Event`]): filed under its kind, worded
    /// when read.
    pub async fn record(&mut self, ticket_id: i64, at: OffsetDateTime, actor: &str, event: &Event) -> Result<()> {
        self.event(ticket_id, at, actor, event.kind(), &event.to_stored()).await
    }

    /// Inserts the events written so far, in order, a few hundred to a statement. Called at the
    /// commit, and first by whatever reads or changes the trail inside the transaction.
    pub(super) async fn flush_events(&mut self) -> Result<()> {
        // Five values an event, well under both databases' limit on a statement's parameters.
        const CHUNK: usize = 500;
        const SQL: &str = "INSERT INTO ticket_events (ticket_id, at, actor, kind, detail) ";
        let events = std::mem::take(&mut self.events);
        for chunk in events.chunks(CHUNK) {
            db!(self, c => {
                let mut q = sqlx::QueryBuilder::new(SQL);
                q.push_values(chunk, |mut row, e| {
                    row.push_bind(e.ticket_id).push_bind(e.at).push_bind(&e.actor).push_bind(&e.kind).push_bind(&e.detail);
                });
                q.build().execute(c).await.map(drop)
            })
            .context("recording events")?;
        }
        Ok(())
    }

    /// Everyone a ticket has to do with besides staff: its reporter, the addresses it is routed to,
    /// and every recipient of the mail sent about it (contacts, helpdesk, data-protection contacts).
    pub async fn ticket_parties(&mut self, ticket_id: i64) -> Result<Vec<EmailAddress>> {
        const TICKET: &str = "SELECT reporter, route_to, route_cc FROM tickets WHERE id = $1";
        const SENT_TO: &str = "SELECT DISTINCT r.address FROM outbox_recipients r JOIN outbox o ON o.id = r.outbox_id \
             WHERE o.ticket_id = $1";
        let row: Option<(Option<String>, String, String)> =
            db!(self, c => sqlx::query_as(TICKET).bind(ticket_id).fetch_optional(c).await)
                .context("reading a ticket's parties")?;
        let sent: Vec<(String,)> = db!(self, c => sqlx::query_as(SENT_TO).bind(ticket_id).fetch_all(c).await)
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

    /// The brief of the ticket with this number.
    pub async fn ticket_brief(&mut self, number: &str) -> Result<Option<TicketBrief>> {
        const SQL: &str =
            "SELECT id, number, status, missing, reporter, class, municipality FROM tickets WHERE number = $1";
        db!(self, c => sqlx::query_as(SQL).bind(number).fetch_optional(c).await).context("reading a ticket")
    }

    pub async fn ticket_brief_by_id(&mut self, id: i64) -> Result<Option<TicketBrief>> {
        const SQL: &str =
            "SELECT id, number, status, missing, reporter, class, municipality FROM tickets WHERE id = $1";
        db!(self, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await).context("reading a ticket")
    }

    pub async fn update_ticket_state(
        &mut self,
        id: i64,
        status: TicketStatus,
        missing: &[Detail],
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET status = $1, missing = $2, updated_at = $3 WHERE id = $4";
        let missing = join_list(missing.iter().map(|d| d.as_str()));
        db!(self, execute, SQL, status, missing, at, id).context("updating a ticket")?;
        Ok(())
    }

    /// The known vendor issue recorded on a ticket.
    pub async fn ticket_vendor_issue(&mut self, ticket: i64) -> Result<Option<String>> {
        const SQL: &str = "SELECT vendor_issue FROM tickets WHERE id = $1";
        let row: Option<(Option<String>,)> =
            db!(self, c => sqlx::query_as(SQL).bind(ticket).fetch_optional(c).await).context("reading a ticket")?;
        Ok(row.and_then(|r| r.0))
    }

    pub async fn set_ticket_class(&mut self, id: i64, class: Class, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET class = $1, updated_at = $2 WHERE id = $3";
        db!(self, execute, SQL, class.as_str(), at, id).context("reclassifying a ticket")?;
        Ok(())
    }

    /// `None`: the ticket belongs to no municipality (staff could not tell).
    pub async fn set_ticket_municipality(
        &mut self,
        id: i64,
        municipality: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET municipality = $1, updated_at = $2 WHERE id = $3";
        db!(self, execute, SQL, municipality, at, id).context("setting a ticket's municipality")?;
        Ok(())
    }

    pub async fn set_ticket_status(&mut self, id: i64, status: TicketStatus, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3";
        db!(self, execute, SQL, status, at, id).context("setting a ticket's status")?;
        Ok(())
    }

    pub async fn set_ticket_route(
        &mut self,
        id: i64,
        to: &[EmailAddress],
        cc: &[EmailAddress],
        status: TicketStatus,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE tickets SET route_to = $1, route_cc = $2, status = $3, missing = '', updated_at = $4 WHERE id = $5";
        let (to, cc) = (join_list(to.iter().map(EmailAddress::as_str)), join_list(cc.iter().map(EmailAddress::as_str)));
        db!(self, execute, SQL, to, cc, status, at, id).context("re-routing a ticket")?;
        Ok(())
    }

    /// Links two tickets as the same fault, both ways; `false` if they were linked already.
    pub async fn link_tickets(&mut self, a: i64, b: i64) -> Result<bool> {
        const SQL: &str = "INSERT INTO ticket_links (ticket_id, other_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let n = db!(self, c => sqlx::query(SQL).bind(a).bind(b).execute(c).await.map(|r| r.rows_affected()))
            .context("linking tickets")?;
        db!(self, c => sqlx::query(SQL).bind(b).bind(a).execute(c).await.map(|r| r.rows_affected()))
            .context("linking tickets")?;
        Ok(n > 0)
    }

    /// The texts of a ticket's report.
    pub async fn ticket_text(&mut self, ticket: i64) -> Result<ReportText> {
        const SQL: &str = "SELECT subject, body, products FROM tickets WHERE id = $1";
        let row: (String, String, String) = db!(self, fetch_one, SQL, ticket).context("reading a report")?;
        Ok(ReportText::from(row))
    }

    /// Sets a ticket's privacy flag.
    /// Staff found the privacy flag false.
    pub async fn clear_ticket_privacy(&mut self, ticket: i64, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET privacy = FALSE, updated_at = $1 WHERE id = $2";
        db!(self, execute, SQL, at, ticket).context("clearing a ticket's privacy flag")?;
        Ok(())
    }

    pub async fn set_ticket_privacy(&mut self, ticket: i64, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET privacy = TRUE, updated_at = $1 WHERE id = $2";
        db!(self, c => sqlx::query(SQL).bind(at).bind(ticket).execute(c).await.map(drop)).context("flagging a ticket")
    }

    /// A ticket's subject.
    pub async fn ticket_subject(&mut self, ticket: i64) -> Result<String> {
        const SQL: &str = "SELECT subject FROM tickets WHERE id = $1";
        let (s,): (String,) =
            db!(self, c => sqlx::query_as(SQL).bind(ticket).fetch_one(c).await).context("reading a ticket")?;
        Ok(s)
    }
}
