//! What staff do to tickets from the web view: reclassify, change municipality, re-route (the routing
//! mail goes again, through the outbox), release a held ticket, resolve and reopen, notes, links
//! between reports of the same fault, and making a ticket of a mail that was set aside. Every action
//! is written to the ticket's audit trail with who did it.

use anyhow::Context as _;
use time::OffsetDateTime;

use super::refusal::Refusal;
use super::{Desk, Outcome};
use crate::domain::Class;
use crate::domain::TicketStatus;
use crate::domain::event::Event;
use crate::pipeline::learn::Correction;
use crate::pipeline::route::{self, Recipients, Reply};
use crate::pipeline::triage;
use crate::store::{StoredMail, TicketBrief, Tx};

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("no such ticket or mail")]
    NotFound,
    #[error("{0}")]
    Invalid(super::refusal::Refusal),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

type Result<T> = std::result::Result<T, ActionError>;

impl Desk {
    async fn ticket(&self, tx: &mut Tx, number: &str) -> Result<TicketBrief> {
        tx.ticket_brief(number).await?.ok_or(ActionError::NotFound)
    }

    pub async fn reclassify(&self, number: &str, class: Class, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.ticket(&mut tx, number).await?;
        tx.set_ticket_class(t.id, class, now).await?;
        tx.record(t.id, now, actor, &Event::Reclassified { from: t.class, to: class }).await?;
        if class != Class::Unclassified {
            self.keep_correction(&mut tx, t.id, Correction::Class(class), actor, now).await?;
        }
        tx.commit().await?;
        self.corrected();
        Ok(())
    }

    pub async fn set_municipality(&self, number: &str, municipality: Option<&str>, actor: &str) -> Result<()> {
        if let Some(m) = municipality
            && self.policy.municipality(m).is_none()
        {
            return Err(ActionError::Invalid(Refusal::UnknownMunicipality(m.to_string())));
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.ticket(&mut tx, number).await?;
        tx.set_ticket_municipality(t.id, municipality, now).await?;
        let name = |id: &str| self.policy.municipality_name(id).to_string();
        let changed =
            Event::MunicipalityChanged { from: t.municipality.as_deref().map(name), to: municipality.map(name) };
        tx.record(t.id, now, actor, &changed).await?;
        let correction = Correction::Municipality(municipality.map(str::to_string));
        self.keep_correction(&mut tx, t.id, correction, actor, now).await?;
        tx.commit().await?;
        self.corrected();
        Ok(())
    }

    /// `resolved`, or `open` to reopen.
    pub async fn set_status(&self, number: &str, wanted: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.ticket(&mut tx, number).await?;
        let new = match wanted {
            "resolved" => TicketStatus::Resolved,
            "open" if t.status == TicketStatus::Resolved => TicketStatus::Routed,
            "open" => return Err(ActionError::Invalid(Refusal::NotResolved)),
            other => return Err(ActionError::Invalid(Refusal::UnknownStatus(other.to_string()))),
        };
        tx.set_ticket_status(t.id, new, now).await?;
        tx.record(t.id, now, actor, &Event::StatusChanged { from: t.status, to: new }).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_note(&self, number: &str, text: &str, actor: &str) -> Result<()> {
        let text = text.trim();
        if text.is_empty() || text.len() > 10_000 {
            return Err(ActionError::Invalid(Refusal::NoteLength));
        }
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.ticket(&mut tx, number).await?;
        tx.event(t.id, now, actor, "note", text).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links two tickets as reports of the same fault.
    pub async fn link(&self, number: &str, other: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let a = self.ticket(&mut tx, number).await?;
        let b = self
            .ticket(&mut tx, other.trim())
            .await
            .map_err(|_| ActionError::Invalid(Refusal::NoSuchTicket(other.to_string())))?;
        if a.id == b.id {
            return Err(ActionError::Invalid(Refusal::LinkedToItself));
        }
        if tx.link_tickets(a.id, b.id).await? {
            tx.record(a.id, now, actor, &Event::Linked { other: b.number.clone() }).await?;
            tx.record(b.id, now, actor, &Event::Linked { other: a.number.clone() }).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Routes the ticket again for its current class and municipality: the routing mail goes to
    /// the (new) recipients through the outbox. Also how a held ticket is released by hand.
    pub async fn reroute(&self, number: &str, actor: &str) -> Result<Recipients> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.ticket(&mut tx, number).await?;
        let StoredMail { id: report, raw } = tx.opening_message(t.id).await?.ok_or(ActionError::NotFound)?;
        let mut d = triage(&raw, &self.policy, &self.limits).context("re-reading the report")?;
        let class = t.class;
        let municipality = t.municipality.as_deref().and_then(|m| self.policy.municipality(m));
        let r = route::recipients(class, municipality, &self.policy);
        d.classification.class = class;
        if let Some(routing) = d.routing.as_mut() {
            routing.municipality = t.municipality.clone();
            routing.to = r.to.clone();
            routing.cc = r.cc.clone();
            routing.note = r.note.clone();
            routing.manual_triage = r.manual_triage;
            routing.held = false;
        }
        let new_status = if r.manual_triage { TicketStatus::Triage } else { TicketStatus::Routed };
        let released = t.status == TicketStatus::AwaitingInfo;
        tx.set_ticket_route(t.id, &r.to, &r.cc, new_status, now).await?;
        if released {
            tx.record(t.id, now, actor, &Event::Released).await?;
        }
        self.queue_routing(&mut tx, t.id, &t.number, report, &d, now, actor, None).await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Makes a ticket of a mail that was ignored or quarantined. No automatic reply goes out.
    pub async fn make_ticket(&self, message: i64, actor: &str) -> Result<String> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let StoredMail { id, raw } = tx.untracked_message(message).await?.ok_or(ActionError::NotFound)?;
        let mut d = self.triage(&raw).map_err(|e| ActionError::Invalid(Refusal::UnreadableMail(e.to_string())))?;
        d.ignored = None;
        let mut routing = route::route(&d.mail, &d.checks, &d.classification, &self.policy);
        routing.held = false;
        routing.reply = Reply::None;
        d.routing = Some(routing);
        let outcome =
            self.open_ticket(&mut tx, id, &d, now, super::Opening { actor, reply: false, mentions: None }).await?;
        let Outcome::Ticket { number, .. } = outcome else {
            return Err(ActionError::Invalid(Refusal::NoTicketMade));
        };
        let ticket = self.ticket(&mut tx, &number).await?;
        tx.record(ticket.id, now, actor, &Event::MadeTicket).await?;
        tx.commit().await?;
        Ok(number)
    }
}
