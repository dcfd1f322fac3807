//! What staff do with a group of reports of the same fault: confirm it as an incident and follow it
//! through the vendor's stages (investigating → identified → monitoring → resolved) with
//! timestamped updates, take a report out of it, or dismiss it.

use super::refusal::Refusal;
use time::OffsetDateTime;

use super::{ActionError, Desk};
use crate::domain::event::Event;
use crate::domain::{IncidentState, IncidentStatus};
use crate::store::{IncidentBrief, IncidentReport, Tx};

type Result<T> = std::result::Result<T, ActionError>;

impl Desk {
    async fn incident(&self, tx: &mut Tx, number: &str) -> Result<IncidentBrief> {
        tx.incident_by_number(number).await?.ok_or(ActionError::NotFound)
    }

    /// Staff confirm: the reports are one incident, now being investigated. `public`: the update
    /// appears on the public status page.
    pub async fn confirm_incident(&self, number: &str, text: &str, public: bool, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let IncidentBrief { id, state, .. } = self.incident(&mut tx, number).await?;
        if !matches!(state, IncidentState::Group | IncidentState::Suspected) {
            return Err(ActionError::Invalid(Refusal::IncidentIs(state)));
        }
        // The text staff write when confirming is the incident's public title (the status page shows
        // no report's own words).
        let body = if text.trim().is_empty() { "Feil under utredning" } else { text.trim() };
        tx.set_incident_title(id, body).await?;
        tx.set_incident_state_shown(
            id,
            IncidentState::Confirmed,
            Some(IncidentStatus::Investigating),
            now,
            actor,
            body,
            public,
        )
        .await?;
        self.note_on_tickets(&mut tx, id, now, actor, &Event::IncidentConfirmed { incident: number.to_string() })
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A timestamped update of a confirmed incident, moving it to `stage`; `public`: it appears on
    /// the public status page.
    pub async fn update_incident(
        &self,
        number: &str,
        stage: IncidentStatus,
        text: &str,
        public: bool,
        actor: &str,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let text = text.trim();
        if text.is_empty() || text.len() > 10_000 {
            return Err(ActionError::Invalid(Refusal::UpdateText));
        }
        let mut tx = self.store.begin().await?;
        let IncidentBrief { id, state, .. } = self.incident(&mut tx, number).await?;
        if state != IncidentState::Confirmed {
            return Err(ActionError::Invalid(Refusal::ConfirmFirst));
        }
        tx.set_incident_state_shown(id, IncidentState::Confirmed, Some(stage), now, actor, text, public).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Staff dismiss: the reports are not one fault; they are not grouped again.
    pub async fn dismiss_incident(&self, number: &str, text: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let id = self.incident(&mut tx, number).await?.id;
        // Without a text of their own, the timeline says why in the reader's language.
        tx.set_incident_state(id, IncidentState::Dismissed, None, now, actor, text.trim()).await?;
        self.note_on_tickets(&mut tx, id, now, actor, &Event::IncidentDismissed { incident: number.to_string() })
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes one report out of the group (it was another fault).
    pub async fn split_incident(&self, number: &str, ticket: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let IncidentBrief { id, state, status, .. } = self.incident(&mut tx, number).await?;
        let t = tx.ticket_brief(ticket.trim()).await?.ok_or(ActionError::NotFound)?;
        if tx.incident_of(t.id).await?.map(|i| i.id) != Some(id) {
            return Err(ActionError::Invalid(Refusal::NotInIncident {
                ticket: t.number,
                incident: number.to_string(),
            }));
        }
        tx.set_ticket_incident(t.id, None).await?;
        tx.record(t.id, now, actor, &Event::Ungrouped { incident: number.to_string() }).await?;
        let body = format!("{} taken out: another fault", t.number);
        tx.set_incident_state(id, state, status, now, actor, &body).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn note_on_tickets(
        &self,
        tx: &mut Tx,
        incident: i64,
        now: OffsetDateTime,
        actor: &str,
        what: &Event,
    ) -> Result<()> {
        for IncidentReport { number: n, .. } in tx.incident_reports(incident).await? {
            if let Some(t) = tx.ticket_brief(&n).await? {
                tx.record(t.id, now, actor, what).await?;
            }
        }
        Ok(())
    }
}
