//! Vendor cases: one per application fault whose routing mail asked for one, with the vendor's
//! case number, "open for all in the region", the reminder and the resolution; and a contact's
//! open question to a ticket's reporter.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::types::split_list;
use super::{Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VendorCaseRow {
    pub asked_at: OffsetDateTime,
    pub case_number: Option<String>,
    pub recorded_at: Option<OffsetDateTime>,
    pub recorded_by: Option<String>,
    pub open_to_region: bool,
    pub reminded_at: Option<OffsetDateTime>,
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by: Option<String>,
}

/// A ticket waiting for its vendor case number.
#[derive(Debug, Clone)]
pub struct WaitingCase {
    pub ticket_id: i64,
    pub number: String,
    pub subject: String,
    pub asked_at: OffsetDateTime,
    /// The addresses the routing mail went to.
    pub route_to: Vec<String>,
}

const COLUMNS: &str =
    "asked_at, case_number, recorded_at, recorded_by, open_to_region, reminded_at, resolved_at, resolved_by";

/// Inserts the ticket's case if it has none, so every change below works on a case that was never
/// asked for too (a number entered by staff on any ticket).
const ENSURE: &str =
    "INSERT INTO vendor_cases (ticket_id, asked_at) VALUES ($1, $2) ON CONFLICT (ticket_id) DO NOTHING";

impl Store {
    pub async fn vendor_case_of(&self, ticket: i64) -> Result<Option<VendorCaseRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", COLUMNS, " FROM vendor_cases WHERE ticket_id = $1");
        db!(self, fetch_optional, SQL, ticket).context("reading a vendor case")
    }

    /// The vendor case numbers of an incident's reports that have one: `(ticket id, case number)`.
    pub async fn incident_vendor_cases(&self, incident: i64) -> Result<Vec<(i64, String)>> {
        const SQL: &str = "SELECT v.ticket_id, v.case_number FROM vendor_cases v JOIN tickets t ON t.id = v.ticket_id \
             WHERE t.incident_id = $1 AND v.case_number IS NOT NULL";
        db!(self, fetch_all, SQL, incident).context("reading an incident's vendor cases")
    }

    /// Cases asked for before `before`, still without a number, not reminded and not resolved, of
    /// tickets still open (oldest first, at most `limit`).
    pub async fn vendor_cases_waiting(&self, before: OffsetDateTime, limit: i64) -> Result<Vec<WaitingCase>> {
        const SQL: &str = "SELECT v.ticket_id, t.number, t.subject, v.asked_at, t.route_to FROM vendor_cases v \
             JOIN tickets t ON t.id = v.ticket_id \
             WHERE v.case_number IS NULL AND v.reminded_at IS NULL AND v.resolved_at IS NULL \
             AND v.asked_at < $1 AND t.status <> 'resolved' ORDER BY v.asked_at LIMIT $2";
        let rows: Vec<(i64, String, String, OffsetDateTime, String)> =
            db!(self, fetch_all, SQL, before, limit).context("reading the vendor cases waiting for a number")?;
        Ok(rows
            .into_iter()
            .map(|(ticket_id, number, subject, asked_at, to)| WaitingCase {
                ticket_id,
                number,
                subject,
                asked_at,
                route_to: split_list(&to),
            })
            .collect())
    }
}

impl Tx {
    pub async fn vendor_case(&mut self, ticket: i64) -> Result<Option<VendorCaseRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", COLUMNS, " FROM vendor_cases WHERE ticket_id = $1");
        db!(self, fetch_optional, SQL, ticket).context("reading a vendor case")
    }

    /// The routing mail asked for the vendor's case number (kept from the first time it asked).
    pub async fn ask_vendor_case(&mut self, ticket: i64, at: OffsetDateTime) -> Result<()> {
        db!(self, execute, ENSURE, ticket, at).context("recording a vendor case asked for")?;
        Ok(())
    }

    pub async fn set_vendor_case_number(
        &mut self,
        ticket: i64,
        number: &str,
        by: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str =
            "UPDATE vendor_cases SET case_number = $1, recorded_at = $2, recorded_by = $3 WHERE ticket_id = $4";
        db!(self, execute, ENSURE, ticket, at).context("recording a vendor case")?;
        db!(self, execute, SQL, number, at, by, ticket).context("recording a vendor case number")?;
        Ok(())
    }

    pub async fn set_vendor_open_to_region(&mut self, ticket: i64, open: bool, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE vendor_cases SET open_to_region = $1 WHERE ticket_id = $2";
        db!(self, execute, ENSURE, ticket, at).context("recording a vendor case")?;
        db!(self, execute, SQL, open, ticket).context("recording a vendor case open for all")?;
        Ok(())
    }

    /// `None` reopens it.
    pub async fn set_vendor_resolved(&mut self, ticket: i64, by: Option<&str>, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE vendor_cases SET resolved_at = $1, resolved_by = $2 WHERE ticket_id = $3";
        db!(self, execute, ENSURE, ticket, at).context("recording a vendor case")?;
        let when = by.map(|_| at);
        db!(self, execute, SQL, when, by, ticket).context("resolving a vendor case")?;
        Ok(())
    }

    /// Marks the case reminded; `false` if another instance did so first.
    pub async fn mark_vendor_reminded(&mut self, ticket: i64, at: OffsetDateTime) -> Result<bool> {
        const SQL: &str = "UPDATE vendor_cases SET reminded_at = $1 \
             WHERE ticket_id = $2 AND reminded_at IS NULL AND case_number IS NULL";
        Ok(db!(self, execute, SQL, at, ticket).context("marking a vendor case reminded")? == 1)
    }

    /// What mail about a ticket names: the reporter's name, the subject, and where it was routed.
    pub async fn ticket_mailing(&mut self, ticket: i64) -> Result<(Option<String>, String, Vec<String>)> {
        const SQL: &str = "SELECT reporter_name, subject, route_to FROM tickets WHERE id = $1";
        let (name, subject, to): (Option<String>, String, String) =
            db!(self, fetch_one, SQL, ticket).context("reading a ticket")?;
        Ok((name, subject, split_list(&to)))
    }

    /// Opens (`Some`) or closes (`None`) a contact's question to the reporter.
    pub async fn set_question(&mut self, ticket: i64, at: Option<OffsetDateTime>) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET question_at = $1 WHERE id = $2";
        db!(self, execute, SQL, at, ticket).context("recording a question to the reporter")?;
        Ok(())
    }

    pub async fn question_open(&mut self, ticket: i64) -> Result<bool> {
        const SQL: &str = "SELECT question_at FROM tickets WHERE id = $1";
        let row: Option<(Option<OffsetDateTime>,)> =
            db!(self, fetch_optional, SQL, ticket).context("reading a question to the reporter")?;
        Ok(row.and_then(|r| r.0).is_some())
    }
}
