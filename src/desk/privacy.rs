//! Privacy incidents, following the vendor's process for breaches of personal data (seed 002):
//! alert received → assess and resolve → review and close. A ticket flagged `privacy` (by the
//! classifier or by staff) opens one: the data-protection contacts are told at once; a coordinator
//! is appointed; the incident report is kept; the data-protection authority must be notified
//! within 72 hours of the incident being recorded (GDPR art. 33), and the coordinator is warned
//! before that runs out; it cannot be closed without a review note. Every step is in the ticket's
//! audit trail.

use super::refusal::Refusal;
use time::OffsetDateTime;

use super::{ACTOR, ActionError, Desk};
use crate::domain::event::Event;
use crate::domain::{OutboxKind, PrivacyStage};
use crate::store::{PrivacyReport, Tx};
use crate::text::address::EmailAddress;

type Result<T> = std::result::Result<T, ActionError>;

/// GDPR art. 33: notify the authority within 72 hours of becoming aware.
pub const DEADLINE_HOURS: i64 = 72;

impl Desk {
    /// The data-protection contacts for a ticket of `municipality`: its own and the region's.
    fn privacy_contacts(&self, municipality: Option<&str>) -> Vec<EmailAddress> {
        let mut to: Vec<EmailAddress> = municipality
            .and_then(|m| self.policy.municipality(m))
            .and_then(|m| m.privacy_contact.clone())
            .into_iter()
            .chain(self.policy.privacy.contacts.iter().cloned())
            .collect();
        to.dedup();
        to
    }

    /// Opens the privacy incident of a ticket (in the ticket's transaction) and tells the
    /// data-protection contacts at once.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn open_privacy(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        municipality: Option<&str>,
        subject: &str,
        now: OffsetDateTime,
        actor: &str,
    ) -> anyhow::Result<()> {
        let deadline = now + time::Duration::hours(DEADLINE_HOURS);
        let Some(prv) = tx.open_privacy(ticket, now, deadline).await? else { return Ok(()) };
        tx.record(ticket, now, actor, &Event::PrivacyOpened { case: prv.clone(), deadline: stamp(deadline) }).await?;
        let to = self.privacy_contacts(municipality);
        if to.is_empty() {
            tx.record(ticket, now, ACTOR, &Event::PrivacyNobodyToTell).await?;
            return Ok(());
        }
        let body = format!(
            "Mulig avvik med personopplysninger er registrert.\n\n  Avvik:      {prv}\n  Sak:        {number}\n  Emne:       {subject}\n  \
             Registrert: {}\n  Frist:      {} (72 timer: melding til Datatilsynet, GDPR art. 33)\n\n\
             Neste steg: utnevn en koordinator, vurder og lukk avviket (varsel mottatt → vurdering → gjennomgang).\n\n{}",
            stamp(now),
            stamp(deadline),
            self.policy.replies.signature
        );
        let text =
            crate::reply::Text { subject: format!("[{prv}] Mulig avvik med personopplysninger – {number}"), body };
        self.queue_mail(tx, ticket, OutboxKind::Privacy, &to, &text, None, now).await?;
        tx.record(ticket, now, ACTOR, &Event::PrivacyTold { to: to.iter().map(ToString::to_string).collect() }).await?;
        Ok(())
    }

    /// Staff flag a ticket as a privacy matter: it gets the flag and its privacy incident.
    pub async fn flag_privacy(&self, number: &str, actor: &str) -> Result<String> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = tx.ticket_brief(number).await?.ok_or(ActionError::NotFound)?;
        tx.set_ticket_privacy(t.id, now).await?;
        let subject = tx.ticket_subject(t.id).await?;
        self.open_privacy(&mut tx, t.id, number, t.municipality.as_deref(), &subject, now, actor).await?;
        tx.record(t.id, now, actor, &Event::PrivacyFlagged).await?;
        let correction = crate::pipeline::learn::Correction::Privacy(true);
        self.keep_correction(&mut tx, t.id, correction, actor, now).await?;
        let prv = tx.privacy_of(t.id).await?.ok_or(ActionError::NotFound)?;
        tx.commit().await?;
        self.corrected();
        Ok(prv)
    }

    async fn privacy_incident(&self, tx: &mut Tx, number: &str) -> Result<crate::store::PrivacyRow> {
        tx.privacy(number).await?.ok_or(ActionError::NotFound)
    }

    /// Appoints the coordinator (a staff user).
    pub async fn appoint_coordinator(&self, number: &str, username: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let user = self.store.user_by_name(username.trim()).await?.filter(|u| !u.disabled);
        let Some(user) = user else { return Err(ActionError::Invalid(Refusal::NoStaffUser(username.to_string()))) };
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        tx.set_privacy_coordinator(p.id, &user.username, now).await?;
        let appointed = Event::PrivacyCoordinator { case: number.to_string(), user: user.username.clone() };
        tx.record(p.ticket_id, now, actor, &appointed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves to the next stage: `assessing` (assess and resolve) or `review` (review and close).
    /// Closing has its own step, [`Desk::close_privacy`], with the review note.
    pub async fn privacy_stage(&self, number: &str, stage: PrivacyStage, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        if p.stage.next() != Some(stage) || stage == PrivacyStage::Closed {
            return Err(ActionError::Invalid(Refusal::StageStep { from: p.stage, to: stage }));
        }
        if p.coordinator.is_none() {
            return Err(ActionError::Invalid(Refusal::CoordinatorFirst));
        }
        tx.set_privacy_stage(p.id, stage, now).await?;
        let changed = Event::PrivacyStageChanged { case: number.to_string(), from: p.stage, to: stage };
        tx.record(p.ticket_id, now, actor, &changed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the incident report.
    pub async fn privacy_report(&self, number: &str, report: &PrivacyReport, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let fields = [
            &report.timeline,
            &report.root_cause,
            &report.data_subjects,
            &report.personal_data,
            &report.mitigation,
            &report.controller,
        ];
        if fields.iter().any(|f| f.len() > 20_000) {
            return Err(ActionError::Invalid(Refusal::ReportFieldTooLong));
        }
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        tx.set_privacy_report(p.id, report, now).await?;
        let reported = Event::PrivacyReported { case: number.to_string(), crisis: report.crisis };
        tx.record(p.ticket_id, now, actor, &reported).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that the data-protection authority was notified (now).
    pub async fn privacy_authority_notified(&self, number: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        tx.set_privacy_authority(p.id, now).await?;
        let notified = Event::PrivacyAuthorityNotified { case: number.to_string(), late: now > p.deadline_at };
        tx.record(p.ticket_id, now, actor, &notified).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Alerts the vendor, as data processor, at the policy's `[privacy] vendor_alert` (once): the
    /// case's facts and the kinds of data, not the report or anyone's personal data.
    pub async fn alert_vendor(&self, number: &str, actor: &str) -> Result<()> {
        let Some(to) = self.policy.privacy.vendor_alert.clone() else {
            return Err(ActionError::Invalid(Refusal::NoVendorAddress));
        };
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        if let Some(at) = p.vendor_alerted_at {
            return Err(ActionError::Invalid(Refusal::VendorAlerted { at: stamp(at) }));
        }
        let report = tx.ticket_text(p.ticket_id).await?;
        let municipality = p.municipality.as_deref().map_or("", |m| self.policy.municipality_name(m));
        let helpdesk = &self.policy.helpdesk;
        let (recorded, deadline) = (stamp(p.recorded_at), stamp(p.deadline_at));
        let products = report.products.join(", ");
        let none =
            |s: &str| if s.trim().is_empty() { "(ikke kartlagt ennå)".to_string() } else { s.trim().to_string() };
        let (personal_data, data_subjects) = (none(&p.personal_data), none(&p.data_subjects));
        let helpdesk_line = format!("{} – {} – {}", helpdesk.name, helpdesk.phone, helpdesk.email);
        let text = crate::reply::PrivacyVendorAlert {
            customer: &self.policy.region,
            vendor: &self.policy.vendor.name,
            case: number,
            ticket: &p.ticket,
            recorded: &recorded,
            deadline: &deadline,
            products: if products.is_empty() { "(ikke oppgitt)" } else { &products },
            municipality: if municipality.is_empty() { "(ukjent)" } else { municipality },
            subject: &report.subject,
            personal_data: &personal_data,
            data_subjects: &data_subjects,
            helpdesk: &helpdesk_line,
            signature: &self.policy.replies.signature,
        }
        .text()
        .map_err(|e| anyhow::anyhow!("rendering the alert to the vendor: {e}"))?;
        let kind = OutboxKind::PrivacyVendorAlert;
        self.queue_mail(&mut tx, p.ticket_id, kind, std::slice::from_ref(&to), &text, None, now).await?;
        tx.set_privacy_vendor_alerted(p.id, now).await?;
        let alerted = Event::PrivacyVendorAlerted { case: number.to_string(), to: to.to_string() };
        tx.record(p.ticket_id, now, actor, &alerted).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Closes the incident; only from review, and only with a review note.
    pub async fn close_privacy(&self, number: &str, note: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let note = note_given(note)?;
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        if p.stage != PrivacyStage::Review {
            return Err(ActionError::Invalid(Refusal::CloseFromReview(p.stage)));
        }
        tx.close_privacy(p.id, note, now).await?;
        tx.record(p.ticket_id, now, actor, &Event::PrivacyClosed { case: number.to_string(), note: note.to_string() })
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Dismisses a flag staff found false: the case is closed with the note, the ticket loses its
    /// privacy flag, and the classifier learns "not a breach" from it. Not once the authority was
    /// notified (then it was a breach, closed after review).
    pub async fn dismiss_privacy(&self, number: &str, note: &str, actor: &str) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        let note = note_given(note)?;
        let mut tx = self.store.begin().await?;
        let p = self.privacy_incident(&mut tx, number).await?;
        open(&p)?;
        if p.authority_notified_at.is_some() {
            return Err(ActionError::Invalid(Refusal::NotifiedNotDismissed(number.to_string())));
        }
        tx.close_privacy(p.id, note, now).await?;
        tx.clear_ticket_privacy(p.ticket_id, now).await?;
        let dismissed = Event::PrivacyDismissed { case: number.to_string(), note: note.to_string() };
        tx.record(p.ticket_id, now, actor, &dismissed).await?;
        let correction = crate::pipeline::learn::Correction::Privacy(false);
        self.keep_correction(&mut tx, p.ticket_id, correction, actor, now).await?;
        tx.commit().await?;
        self.corrected();
        Ok(())
    }

    /// Warns the coordinators of incidents whose deadline is less than the policy's `warn_hours`
    /// away (as of `now`) and whose authority is not yet notified; each incident is warned once.
    /// Returns the numbers warned.
    pub async fn privacy_deadline_warnings(&self, now: OffsetDateTime) -> anyhow::Result<Vec<String>> {
        let by = now + time::Duration::hours(i64::from(self.policy.privacy.warn_hours));
        let mut tx = self.store.begin().await?;
        let due = tx.privacy_due(by, now).await?;
        let mut warned = Vec::with_capacity(due.len());
        for p in due {
            let coordinator = match &p.coordinator {
                Some(u) => tx.user_email(u).await?,
                None => None,
            };
            // Without a coordinator (or their address) the data-protection contacts are warned.
            let to = match coordinator.as_deref().map(EmailAddress::parse) {
                Some(Ok(a)) => vec![a],
                _ => self.privacy_contacts(p.municipality.as_deref()),
            };
            let left = (p.deadline_at - now).whole_hours().max(0);
            let body = format!(
                "Fristen for å melde avviket {} til Datatilsynet går ut {} (om {left} timer).\n\n  Sak:   {}\n  Steg:  {}\n\n\
                 Er avviket meldt, registrer det i routedesk; er det ikke meldepliktig, skriv det i gjennomgangen.\n\n{}",
                p.number,
                stamp(p.deadline_at),
                p.ticket,
                p.stage,
                self.policy.replies.signature
            );
            if !to.is_empty() {
                let subject = format!("[{}] Frist om {left} timer: melding til Datatilsynet", p.number);
                let text = crate::reply::Text { subject, body };
                self.queue_mail(&mut tx, p.ticket_id, OutboxKind::PrivacyDeadline, &to, &text, None, now).await?;
            }
            let warned_to = to.iter().map(ToString::to_string).collect();
            tx.record(p.ticket_id, now, ACTOR, &Event::PrivacyDeadlineWarned { case: p.number.clone(), to: warned_to })
                .await?;
            warned.push(p.number);
        }
        tx.commit().await?;
        Ok(warned)
    }
}

/// Checks the deadlines every ten minutes (on one instance at a time) until shutdown.
pub async fn warn_loop(desk: Desk, instance: String, shutdown: tokio::sync::watch::Receiver<bool>) {
    let job = |desk: Desk, now| async move { desk.privacy_deadline_warnings(now).await };
    super::every_ten_minutes(desk, "privacy-deadlines", instance, shutdown, job).await
}

/// A review or dismissal note, trimmed; a case is never closed without one.
fn note_given(note: &str) -> Result<&str> {
    let note = note.trim();
    if note.is_empty() { Err(ActionError::Invalid(Refusal::ReviewNoteRequired)) } else { Ok(note) }
}

fn open(p: &crate::store::PrivacyRow) -> Result<()> {
    if p.stage == PrivacyStage::Closed {
        Err(ActionError::Invalid(Refusal::CaseClosed(p.number.clone())))
    } else {
        Ok(())
    }
}

/// `2026-05-18 10:15 UTC`.
pub fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}
