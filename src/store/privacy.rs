//! Privacy incidents: stage, coordinator, deadline and the incident report.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use crate::domain::PrivacyStage;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PrivacyRow {
    pub id: i64,
    pub number: String,
    pub ticket_id: i64,
    pub ticket: String,
    pub municipality: Option<String>,
    pub stage: PrivacyStage,
    pub coordinator: Option<String>,
    pub recorded_at: OffsetDateTime,
    pub deadline_at: OffsetDateTime,
    pub warned_at: Option<OffsetDateTime>,
    pub authority_notified_at: Option<OffsetDateTime>,
    pub timeline: String,
    pub root_cause: String,
    pub data_subjects: String,
    pub personal_data: String,
    pub mitigation: String,
    pub crisis: bool,
    pub controller: String,
    pub review_note: String,
    pub closed_at: Option<OffsetDateTime>,
    /// When the vendor (as data processor) was alerted, and its answer.
    pub vendor_alerted_at: Option<OffsetDateTime>,
    pub vendor_answer: String,
    pub vendor_answered_at: Option<OffsetDateTime>,
}

const COLUMNS: &str = "p.id, p.number, p.ticket_id, t.number AS ticket, t.municipality, p.stage, p.coordinator, \
     p.recorded_at, p.deadline_at, p.warned_at, p.authority_notified_at, p.timeline, p.root_cause, p.data_subjects, \
     p.personal_data, p.mitigation, p.crisis, p.controller, p.review_note, p.closed_at, p.vendor_alerted_at, \
     p.vendor_answer, p.vendor_answered_at";

const SELECT: &str =
    const_format::concatcp!("SELECT ", COLUMNS, " FROM privacy_incidents p JOIN tickets t ON t.id = p.ticket_id");

/// The incident report's fields, as staff write them.
#[derive(Debug, Clone, Default)]
pub struct PrivacyReport {
    pub timeline: String,
    pub root_cause: String,
    pub data_subjects: String,
    pub personal_data: String,
    pub mitigation: String,
    pub crisis: bool,
    pub controller: String,
}

impl Store {
    pub async fn privacy_incidents(&self, limit: i64) -> Result<Vec<PrivacyRow>> {
        const SQL: &str = const_format::concatcp!(SELECT, " ORDER BY p.id DESC LIMIT $1");
        db!(self, fetch_all, SQL, limit).context("listing privacy incidents")
    }

    pub async fn privacy_by_number(&self, number: &str) -> Result<Option<PrivacyRow>> {
        const SQL: &str = const_format::concatcp!(SELECT, " WHERE p.number = $1");
        db!(self, fetch_optional, SQL, number).context("reading a privacy incident")
    }

    /// The privacy incident of a ticket, if any: its number.
    pub async fn privacy_of_ticket(&self, ticket: i64) -> Result<Option<String>> {
        const SQL: &str = "SELECT number FROM privacy_incidents WHERE ticket_id = $1";
        let row: Option<(String,)> = db!(self, fetch_optional, SQL, ticket).context("reading a privacy incident")?;
        Ok(row.map(|r| r.0))
    }
}

impl Tx {
    /// The vendor's answer to the privacy alert.
    pub async fn set_privacy_vendor_answer(&mut self, ticket: i64, answer: &str, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET vendor_answer = $1, vendor_answered_at = $2, updated_at = $2 WHERE ticket_id = $3";
        db!(self, execute, SQL, answer, at, ticket).context("recording the vendor's answer")?;
        Ok(())
    }

    /// The privacy alert to the vendor went out.
    pub async fn set_privacy_vendor_alerted(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET vendor_alerted_at = $1, updated_at = $1 WHERE id = $2";
        db!(self, execute, SQL, at, id).context("recording the alert to the vendor")?;
        Ok(())
    }

    /// Opens the privacy incident of a ticket (none if it has one); returns its number.
    pub async fn open_privacy(
        &mut self,
        ticket: i64,
        at: OffsetDateTime,
        deadline: OffsetDateTime,
    ) -> Result<Option<String>> {
        const EXISTS: &str = "SELECT id FROM privacy_incidents WHERE ticket_id = $1";
        const COUNTER: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
        const SQL: &str = "INSERT INTO privacy_incidents (number, ticket_id, stage, recorded_at, deadline_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $4)";
        let existing: Option<(i64,)> = db!(self, c => sqlx::query_as(EXISTS).bind(ticket).fetch_optional(c).await)
            .context("reading privacy incidents")?;
        if existing.is_some() {
            return Ok(None);
        }
        let name = format!("privacy-{}", at.year());
        let (n,): (i64,) = db!(self, c => sqlx::query_as(COUNTER).bind(&name).fetch_one(c).await)
            .context("allocating a privacy incident number")?;
        let number = format!("PRV-{}-{n:04}", at.year());
        db!(self, execute, SQL, &number, ticket, PrivacyStage::AlertReceived, at, deadline)
            .context("recording a privacy incident")?;
        Ok(Some(number))
    }

    pub async fn privacy(&mut self, number: &str) -> Result<Option<PrivacyRow>> {
        const SQL: &str = const_format::concatcp!(SELECT, " WHERE p.number = $1");
        db!(self, c => sqlx::query_as(SQL).bind(number).fetch_optional(c).await).context("reading a privacy incident")
    }

    pub async fn set_privacy_stage(&mut self, id: i64, stage: PrivacyStage, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET stage = $1, updated_at = $2 WHERE id = $3";
        db!(self, c => sqlx::query(SQL).bind(stage).bind(at).bind(id).execute(c).await.map(drop))
            .context("moving a privacy incident to its next stage")
    }

    pub async fn set_privacy_coordinator(&mut self, id: i64, username: &str, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET coordinator = $1, updated_at = $2 WHERE id = $3";
        db!(self, c => sqlx::query(SQL).bind(username).bind(at).bind(id).execute(c).await.map(drop))
            .context("appointing a privacy incident's coordinator")
    }

    pub async fn set_privacy_report(&mut self, id: i64, r: &PrivacyReport, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET timeline = $1, root_cause = $2, data_subjects = $3, \
             personal_data = $4, mitigation = $5, crisis = $6, controller = $7, updated_at = $8 WHERE id = $9";
        db!(self, c => sqlx::query(SQL)
            .bind(&r.timeline).bind(&r.root_cause).bind(&r.data_subjects).bind(&r.personal_data)
            .bind(&r.mitigation).bind(r.crisis).bind(&r.controller).bind(at).bind(id)
            .execute(c).await.map(drop))
        .context("recording the incident report")
    }

    pub async fn set_privacy_authority(&mut self, id: i64, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET authority_notified_at = $1, updated_at = $1 WHERE id = $2";
        db!(self, c => sqlx::query(SQL).bind(at).bind(id).execute(c).await.map(drop))
            .context("recording the notification of the authority")
    }

    pub async fn close_privacy(&mut self, id: i64, note: &str, at: OffsetDateTime) -> Result<()> {
        const SQL: &str = "UPDATE privacy_incidents SET stage = 'closed', review_note = $1, closed_at = $2, updated_at = $2 \
             WHERE id = $3";
        db!(self, c => sqlx::query(SQL).bind(note).bind(at).bind(id).execute(c).await.map(drop))
            .context("closing a privacy incident")
    }

    /// Open incidents, the authority not notified, whose deadline falls before `by` and whose
    /// coordinator has not been warned; marks them warned.
    pub async fn privacy_due(&mut self, by: OffsetDateTime, at: OffsetDateTime) -> Result<Vec<PrivacyRow>> {
        const SQL: &str = const_format::concatcp!(
            SELECT,
            " WHERE p.stage <> 'closed' AND p.authority_notified_at IS NULL AND p.warned_at IS NULL \
             AND p.deadline_at <= $1 ORDER BY p.deadline_at"
        );
        let due: Vec<PrivacyRow> =
            db!(self, c => sqlx::query_as(SQL).bind(by).fetch_all(c).await).context("finding privacy deadlines")?;
        for p in &due {
            db!(self, c => sqlx::query("UPDATE privacy_incidents SET warned_at = $1 WHERE id = $2").bind(at).bind(p.id).execute(c).await.map(drop))
                .context("recording a deadline warning")?;
        }
        Ok(due)
    }

    /// The number of a ticket's privacy incident, if it has one.
    pub async fn privacy_of(&mut self, ticket: i64) -> Result<Option<String>> {
        const SQL: &str = "SELECT number FROM privacy_incidents WHERE ticket_id = $1";
        let row: Option<(String,)> = db!(self, c => sqlx::query_as(SQL).bind(ticket).fetch_optional(c).await)
            .context("reading a privacy incident")?;
        Ok(row.map(|r| r.0))
    }
}
