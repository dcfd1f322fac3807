//! Incidents: groups of tickets that report the same fault, their state and timeline.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;
use super::Tx;
use super::tickets::TICKET_COLUMNS;
use super::tickets::TicketRow;
use crate::domain::{IncidentState, IncidentStatus, IncidentStep};

/// An open ticket that a new report may be the same fault as.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub incident_id: Option<i64>,
    pub created_at: OffsetDateTime,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub state: IncidentState,
    pub status: Option<IncidentStatus>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub reports: i64,
    pub municipalities: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentUpdate {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    /// What the incident moved to.
    pub status: IncidentStep,
    pub body: String,
    pub public: bool,
}

/// An update with the incident it belongs to.
#[derive(sqlx::FromRow)]
struct PublicUpdate {
    incident_id: i64,
    #[sqlx(flatten)]
    update: IncidentUpdate,
}

/// A report in an incident, as its mail lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentReport {
    /// The ticket's number.
    pub number: String,
    pub municipality: Option<String>,
    pub subject: String,
}

/// An incident as a report that is in it names it: its number and state, how many reports it has
/// and from how many municipalities, and some of the other reports' numbers.
#[derive(Debug, Clone)]
pub struct IncidentStanding {
    pub number: String,
    pub state: IncidentState,
    pub reports: i64,
    pub municipalities: i64,
    /// Other reports' numbers, oldest first.
    pub shown: Vec<String>,
}

/// Where an incident stands.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentBrief {
    pub id: i64,
    pub number: String,
    pub state: IncidentState,
    /// A confirmed incident's status, as the status page shows it.
    pub status: Option<IncidentStatus>,
}

const INCIDENT_COLUMNS: &str = "i.id, i.number, i.title, i.state, i.status, i.created_at, i.updated_at, \
     (SELECT COUNT(*) FROM tickets t WHERE t.incident_id = i.id) AS reports, \
     (SELECT COUNT(DISTINCT t.municipality) FROM tickets t WHERE t.incident_id = i.id) AS municipalities";

impl Store {
    /// Incidents newest first; `active` keeps suspected and confirmed ones not yet resolved.
    pub async fn incidents(&self, active: bool, limit: i64) -> Result<Vec<IncidentRow>> {
        let filter = if active {
            "WHERE i.state = 'suspected' OR (i.state = 'confirmed' AND i.status <> 'resolved')"
        } else {
            "WHERE i.state <> 'group' OR (SELECT COUNT(*) FROM tickets t WHERE t.incident_id = i.id) > 1"
        };
        let sql = format!("SELECT {INCIDENT_COLUMNS} FROM incidents i {filter} ORDER BY i.id DESC LIMIT $1");
        let sql = sqlx::AssertSqlSafe(sql);
        db!(self, p => sqlx::query_as(sql).bind(limit).fetch_all(p).await).context("listing incidents")
    }

    pub async fn incident_by_number(&self, number: &str) -> Result<Option<IncidentRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", INCIDENT_COLUMNS, " FROM incidents i WHERE i.number = $1");
        db!(self, fetch_optional, SQL, number).context("reading an incident")
    }

    pub async fn incident_by_id(&self, id: i64) -> Result<Option<IncidentRow>> {
        const SQL: &str = const_format::concatcp!("SELECT ", INCIDENT_COLUMNS, " FROM incidents i WHERE i.id = $1");
        db!(self, fetch_optional, SQL, id).context("reading an incident")
    }

    /// The incident a ticket is in, if any.
    pub async fn incident_of_ticket(&self, ticket: i64) -> Result<Option<IncidentRow>> {
        const SQL: &str = const_format::concatcp!(
            "SELECT ",
            INCIDENT_COLUMNS,
            " FROM incidents i JOIN tickets tk ON tk.incident_id = i.id WHERE tk.id = $1"
        );
        db!(self, fetch_optional, SQL, ticket).context("reading a ticket's incident")
    }

    pub async fn incident_tickets(&self, id: i64) -> Result<Vec<TicketRow>> {
        const SQL: &str =
            const_format::concatcp!("SELECT ", TICKET_COLUMNS, " FROM tickets WHERE incident_id = $1 ORDER BY id");
        db!(self, fetch_all, SQL, id).context("reading an incident's tickets")
    }

    /// The lines staff wrote for the public on confirmed incidents, newest first, by incident: the
    /// public status page in one query. Never a line written by routedesk itself (those come
    /// before confirming, and may name tickets).
    pub async fn public_updates(&self) -> Result<HashMap<i64, Vec<IncidentUpdate>>> {
        const SQL: &str = "SELECT u.incident_id, u.id, u.at, u.actor, u.status, u.body, u.public \
             FROM incident_updates u JOIN incidents i ON i.id = u.incident_id \
             WHERE i.state = 'confirmed' AND u.public AND u.actor <> 'routedesk' ORDER BY u.id DESC";
        let rows: Vec<PublicUpdate> = db!(self, fetch_all, SQL).context("reading the public updates")?;
        let mut by_incident: HashMap<i64, Vec<IncidentUpdate>> = HashMap::new();
        for r in rows {
            by_incident.entry(r.incident_id).or_default().push(r.update);
        }
        Ok(by_incident)
    }

    pub async fn incident_updates(&self, id: i64) -> Result<Vec<IncidentUpdate>> {
        const SQL: &str =
            "SELECT id, at, actor, status, body, public FROM incident_updates WHERE incident_id = $1 ORDER BY id";
        db!(self, fetch_all, SQL, id).context("reading an incident's timeline")
    }
}

impl Tx {
    /// Open tickets created since `since` that are not in a dismissed group, newest first.
    pub async fn grouping_candidates(&mut self, since: OffsetDateTime, limit: i64) -> Result<Vec<Candidate>> {
        const SQL: &str = "SELECT t.id, t.incident_id, t.created_at \
             FROM tickets t LEFT JOIN incidents i ON i.id = t.incident_id \
             WHERE t.created_at >= $1 AND t.status <> 'resolved' AND (i.state IS NULL OR i.state <> 'dismissed') \
             ORDER BY t.created_at DESC, t.id DESC LIMIT $2";
        db!(self, c => sqlx::query_as(SQL).bind(since).bind(limit).fetch_all(c).await)
            .context("finding reports of the same fault")
    }

    /// A new group (state `group`) titled after its first report; returns its id and number.
    pub async fn create_incident(&mut self, title: &str, at: OffsetDateTime) -> Result<(i64, String)> {
        const COUNTER: &str = "INSERT INTO counters (name, value) VALUES ($1, 1) \
             ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value";
        const SQL: &str = "INSERT INTO incidents (number, title, state, created_at, updated_at) \
             VALUES ($1, $2, 'group', $3, $3) RETURNING id";
        let name = format!("incident-{}", at.year());
        let (n,): (i64,) = db!(self, c => sqlx::query_as(COUNTER).bind(&name).fetch_one(c).await)
            .context("allocating an incident number")?;
        let number = format!("INC-{}-{n:04}", at.year());
        let (id,): (i64,) = db!(self, c => sqlx::query_as(SQL).bind(&number).bind(title).bind(at).fetch_one(c).await)
            .context("recording an incident")?;
        Ok((id, number))
    }

    pub async fn set_incident_title(&mut self, incident: i64, title: &str) -> Result<()> {
        const SQL: &str = "UPDATE incidents SET title = $1 WHERE id = $2";
        db!(self, c => sqlx::query(SQL).bind(title).bind(incident).execute(c).await.map(drop))
            .context("naming an incident")
    }

    pub async fn set_ticket_incident(&mut self, ticket: i64, incident: Option<i64>) -> Result<()> {
        const SQL: &str = "UPDATE tickets SET incident_id = $1 WHERE id = $2";
        db!(self, c => sqlx::query(SQL).bind(incident).bind(ticket).execute(c).await.map(drop))
            .context("linking a ticket to its incident")
    }

    /// The incident as the report `except` in it names it, with the numbers of its first `shown`
    /// other tickets. One statement: it is read for nearly every new report while a fault is
    /// reported by many.
    pub async fn incident_standing(&mut self, incident: i64, except: &str, shown: i64) -> Result<IncidentStanding> {
        // A row for each shown number (one with none when there are none), each with the counts.
        const SQL: &str = "SELECT i.number, i.state, s.reports, s.municipalities, t.number AS shown \
             FROM incidents i \
             CROSS JOIN (SELECT COUNT(*) AS reports, COUNT(DISTINCT municipality) AS municipalities \
                 FROM tickets WHERE incident_id = $1) s \
             LEFT JOIN (SELECT id, number FROM tickets WHERE incident_id = $1 AND number <> $2 \
                 ORDER BY id LIMIT $3) t ON TRUE \
             WHERE i.id = $1 ORDER BY t.id";
        type Row = (String, IncidentState, i64, i64, Option<String>);
        let rows: Vec<Row> =
            db!(self, c => sqlx::query_as(SQL).bind(incident).bind(except).bind(shown).fetch_all(c).await)
                .context("reading an incident's reports")?;
        let mut rows = rows.into_iter();
        let (number, state, reports, municipalities, first) =
            rows.next().with_context(|| format!("incident {incident} not found"))?;
        let shown = first.into_iter().chain(rows.filter_map(|r| r.4)).collect();
        Ok(IncidentStanding { number, state, reports, municipalities, shown })
    }

    /// Every report in the incident, oldest first.
    pub async fn incident_reports(&mut self, incident: i64) -> Result<Vec<IncidentReport>> {
        const SQL: &str = "SELECT number, municipality, subject FROM tickets WHERE incident_id = $1 ORDER BY id";
        db!(self, fetch_all, SQL, incident).context("reading an incident")
    }

    /// The incident with this number.
    pub async fn incident_by_number(&mut self, number: &str) -> Result<Option<IncidentBrief>> {
        const SQL: &str = "SELECT id, number, state, status FROM incidents WHERE number = $1";
        db!(self, fetch_optional, SQL, number).context("reading an incident")
    }

    /// The incident a ticket is in.
    pub async fn incident_of(&mut self, ticket: i64) -> Result<Option<IncidentBrief>> {
        const SQL: &str = "SELECT i.id, i.number, i.state, i.status FROM incidents i \
             JOIN tickets t ON t.incident_id = i.id WHERE t.id = $1";
        db!(self, fetch_optional, SQL, ticket).context("reading an incident")
    }

    /// Sets the state (and for confirmed incidents the status), with a line in the timeline that
    /// stays off the public status page.
    pub async fn set_incident_state(
        &mut self,
        incident: i64,
        state: IncidentState,
        status: Option<IncidentStatus>,
        at: OffsetDateTime,
        actor: &str,
        body: &str,
    ) -> Result<()> {
        self.set_incident_state_shown(incident, state, status, at, actor, body, false).await
    }

    /// As `set_incident_state`; `public`: the line appears on the public status page.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_incident_state_shown(
        &mut self,
        incident: i64,
        state: IncidentState,
        status: Option<IncidentStatus>,
        at: OffsetDateTime,
        actor: &str,
        body: &str,
        public: bool,
    ) -> Result<()> {
        const SQL: &str = "UPDATE incidents SET state = $1, status = $2, updated_at = $3 WHERE id = $4";
        db!(self, c => sqlx::query(SQL).bind(state).bind(status).bind(at).bind(incident).execute(c).await.map(drop))
            .context("updating an incident")?;
        self.record_update(
            incident,
            at,
            actor,
            status.map_or(IncidentStep::State(state), IncidentStep::Status),
            body,
            public,
        )
        .await
    }

    /// A line in the incident's timeline, off the public status page.
    pub async fn incident_update(
        &mut self,
        incident: i64,
        at: OffsetDateTime,
        actor: &str,
        status: IncidentStep,
        body: &str,
    ) -> Result<()> {
        self.record_update(incident, at, actor, status, body, false).await
    }

    async fn record_update(
        &mut self,
        incident: i64,
        at: OffsetDateTime,
        actor: &str,
        status: IncidentStep,
        body: &str,
        public: bool,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO incident_updates (incident_id, at, actor, status, body, public) \
             VALUES ($1, $2, $3, $4, $5, $6)";
        db!(self, c => sqlx::query(SQL).bind(incident).bind(at).bind(actor).bind(status).bind(body).bind(public).execute(c).await.map(drop))
            .context("recording an incident update")
    }
}
