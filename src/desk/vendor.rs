//! The routine's second half: an application fault's contacts report it to the vendor "open for
//! all in the region" and send back the vendor's case number; the helpdesk follows the case to its
//! end. The case number, "open for all", a question for the reporter and "resolved" come from a
//! contact's reply (the mail commands of [`crate::pipeline::command`]) or from the web view; the
//! contacts get one reminder when no number came within the policy's working hours.

use super::refusal::Refusal;
use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::{ACTOR, ActionError, Desk};
use crate::domain::event::Event;
use crate::domain::{Class, OutboxKind, TicketStatus};
use crate::pipeline::Decision;
use crate::pipeline::command::{self, Command};
use crate::reply::{self, About};
use crate::store::{TicketBrief, Tx};
use crate::text::address::EmailAddress;

/// The longest reporter's answer passed on to the contacts (the rest is on the ticket).
const MAX_ANSWER: usize = 20_000;

impl Desk {
    /// Whether this routing mail asks for the vendor's case number: an application fault routed to
    /// its contacts, whose case has no number yet and is not resolved.
    pub(super) async fn asks_vendor_case(&self, tx: &mut Tx, ticket: i64, d: &Decision, new: bool) -> Result<bool> {
        let routing = d.routing.as_ref().context("a ticket decision always has a route")?;
        if d.classification.class != Class::Application || routing.manual_triage || routing.to.is_empty() {
            return Ok(false);
        }
        // A ticket opened in this transaction has no vendor case yet.
        if new {
            return Ok(true);
        }
        let case = tx.vendor_case(ticket).await?;
        Ok(case.is_none_or(|c| c.case_number.is_none() && c.resolved_at.is_none()))
    }

    /// A contact's (or staff member's) reply: its commands, each confirmed in the audit trail
    /// under the sender's address. The vendor's answer to a privacy alert is the privacy case's.
    pub(super) async fn mail_commands(
        &self,
        tx: &mut Tx,
        t: &TicketBrief,
        from: &EmailAddress,
        d: &Decision,
        now: OffsetDateTime,
    ) -> Result<()> {
        if self.policy.privacy.vendor_alert.as_ref() == Some(from) {
            return self.vendor_answered_privacy(tx, t.id, &d.mail.own_text, from, now).await;
        }
        let actor = from.as_str();
        for c in command::read(&d.mail.subject, &d.mail.own_text, &self.policy.vendor) {
            match c {
                Command::CaseNumber(n) => self.record_case(tx, t.id, &n, actor, true, now).await?,
                Command::OpenToRegion => self.open_to_region(tx, t.id, true, actor, now).await?,
                Command::MoreInfo(q) => self.ask_reporter(tx, t, from, &q, now).await?,
                Command::Resolved => {
                    self.resolve_by_vendor(tx, t, actor, now).await?;
                }
            }
        }
        Ok(())
    }

    /// The reporter's reply while a contact's question is open: it goes on to the contacts.
    pub(super) async fn answer_question(
        &self,
        tx: &mut Tx,
        t: &TicketBrief,
        d: &Decision,
        now: OffsetDateTime,
    ) -> Result<()> {
        if !tx.question_open(t.id).await? {
            return Ok(());
        }
        let (_, subject, route_to) = tx.ticket_mailing(t.id).await?;
        let to: Vec<EmailAddress> = route_to.iter().filter_map(|a| EmailAddress::parse(a).ok()).collect();
        if to.is_empty() {
            return Ok(());
        }
        let own = d.mail.own_text.trim();
        let mut answer = crate::text::prefix(own, MAX_ANSWER).to_string();
        if answer.len() < own.len() {
            answer.push_str(" […]");
        }
        let reporter = t.reporter.as_deref().unwrap_or("?");
        let text = reply::answer(About { ticket: &t.number, subject: &subject }, reporter, &answer)
            .context("rendering the reporter's answer")?;
        self.queue_mail(tx, t.id, OutboxKind::Answer, &to, &text, d.mail.message_id.as_deref(), now).await?;
        tx.set_question(t.id, None).await?;
        let answered = Event::QuestionAnswered { to: to.iter().map(ToString::to_string).collect() };
        tx.record(t.id, now, ACTOR, &answered).await
    }

    async fn record_case(
        &self,
        tx: &mut Tx,
        ticket: i64,
        case: &str,
        actor: &str,
        by_mail: bool,
        now: OffsetDateTime,
    ) -> Result<()> {
        let before = tx.vendor_case(ticket).await?.and_then(|c| c.case_number);
        if before.as_deref() == Some(case) {
            return Ok(());
        }
        tx.set_vendor_case_number(ticket, case, actor, now).await?;
        let vendor = self.policy.vendor.name.clone();
        tx.record(ticket, now, actor, &Event::VendorCaseRecorded { vendor, case: case.to_string(), by_mail }).await
    }

    async fn open_to_region(
        &self,
        tx: &mut Tx,
        ticket: i64,
        open: bool,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let before = tx.vendor_case(ticket).await?.is_some_and(|c| c.open_to_region);
        if before == open {
            return Ok(());
        }
        tx.set_vendor_open_to_region(ticket, open, now).await?;
        tx.record(ticket, now, actor, &Event::VendorOpenToRegion { open }).await
    }

    /// A contact's question to the reporter, named as the policy names the contact.
    async fn ask_reporter(
        &self,
        tx: &mut Tx,
        t: &TicketBrief,
        from: &EmailAddress,
        question: &str,
        now: OffsetDateTime,
    ) -> Result<()> {
        let asker = self
            .policy
            .municipalities
            .iter()
            .flat_map(|m| &m.contacts)
            .find(|c| c.email == *from)
            .map_or_else(|| from.to_string(), |c| c.name.clone());
        tx.record(t.id, now, from.as_str(), &Event::QuestionAsked { question: question.to_string() }).await?;
        let (name, subject, _) = tx.ticket_mailing(t.id).await?;
        let about = About { ticket: &t.number, subject: &subject };
        let text = reply::question(about, name.as_deref(), &asker, question, &self.policy)
            .context("rendering the question to the reporter")?;
        if self.to_reporter(tx, t, OutboxKind::Question, &text, now).await? {
            tx.set_question(t.id, Some(now)).await?;
        }
        Ok(())
    }

    /// Resolves the vendor case and its ticket and tells the reporter; `false` when the ticket was
    /// resolved already.
    async fn resolve_by_vendor(&self, tx: &mut Tx, t: &TicketBrief, actor: &str, now: OffsetDateTime) -> Result<bool> {
        if t.status == TicketStatus::Resolved {
            return Ok(false);
        }
        let case = tx.vendor_case(t.id).await?.and_then(|c| c.case_number);
        tx.set_vendor_resolved(t.id, Some(actor), now).await?;
        tx.set_ticket_status(t.id, TicketStatus::Resolved, now).await?;
        let vendor = self.policy.vendor.name.clone();
        tx.record(t.id, now, actor, &Event::VendorResolved { vendor, case: case.clone() }).await?;
        tx.record(t.id, now, actor, &Event::StatusChanged { from: t.status, to: TicketStatus::Resolved }).await?;
        let (name, subject, _) = tx.ticket_mailing(t.id).await?;
        let about = About { ticket: &t.number, subject: &subject };
        let text = reply::resolved(about, name.as_deref(), case.as_deref(), &self.policy)
            .context("rendering the notice to the reporter")?;
        self.to_reporter(tx, t, OutboxKind::Resolved, &text, now).await?;
        Ok(true)
    }

    /// Mail to a ticket's reporter about it — only to an address routedesk has already answered on
    /// this ticket: a sender it never wrote to (unverified, or asked for no reply) is not written to
    /// now either. `false` when not sent (recorded why).
    async fn to_reporter(
        &self,
        tx: &mut Tx,
        t: &TicketBrief,
        kind: OutboxKind,
        text: &reply::Text,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let reporter = t.reporter.as_deref().and_then(|r| EmailAddress::parse(r).ok());
        let Some(to) = reporter else {
            tx.record(t.id, now, ACTOR, &Event::ReporterNotTold { mail: kind, to: None }).await?;
            return Ok(false);
        };
        if !tx.ticket_replied_to(t.id, &to).await? {
            tx.record(t.id, now, ACTOR, &Event::ReporterNotTold { mail: kind, to: Some(to.to_string()) }).await?;
            return Ok(false);
        }
        self.queue_mail(tx, t.id, kind, std::slice::from_ref(&to), text, None, now).await?;
        tx.record(t.id, now, ACTOR, &Event::Queued { mail: kind, to: to.to_string() }).await?;
        Ok(true)
    }

    /// The vendor's answer to the privacy alert, on the privacy case.
    async fn vendor_answered_privacy(
        &self,
        tx: &mut Tx,
        ticket: i64,
        answer: &str,
        from: &EmailAddress,
        now: OffsetDateTime,
    ) -> Result<()> {
        let Some(case) = tx.privacy_of(ticket).await? else { return Ok(()) };
        let answer: String = answer.trim().chars().take(MAX_ANSWER).collect();
        tx.set_privacy_vendor_answer(ticket, &answer, now).await?;
        tx.record(ticket, now, from.as_str(), &Event::PrivacyVendorAnswered { case, answer }).await
    }

    /// The one reminder to the contacts of each case that has waited the policy's working hours
    /// for its number (as of `now`). Returns the tickets reminded.
    pub async fn vendor_reminders(&self, now: OffsetDateTime) -> Result<Vec<String>> {
        let Some(hours) = self.policy.vendor.reminder_hours else { return Ok(vec![]) };
        // N working hours take at least N hours: older cases are the only candidates.
        let waiting = self.store.vendor_cases_waiting(now - time::Duration::hours(i64::from(hours)), 500).await?;
        let mut reminded = Vec::new();
        for w in waiting {
            if self.schedule.working_hours_between(w.asked_at, now) < f64::from(hours) {
                continue;
            }
            let to: Vec<EmailAddress> = w.route_to.iter().filter_map(|a| EmailAddress::parse(a).ok()).collect();
            let mut tx = self.store.begin().await?;
            // Another instance may have reminded it since it was read.
            if !tx.mark_vendor_reminded(w.ticket_id, now).await? || to.is_empty() {
                tx.commit().await?;
                continue;
            }
            let about = About { ticket: &w.number, subject: &w.subject };
            let text = reply::vendor_reminder(about, &crate::text::time::when(w.asked_at), &self.policy)
                .context("rendering the reminder")?;
            self.queue_mail(&mut tx, w.ticket_id, OutboxKind::VendorReminder, &to, &text, None, now).await?;
            let vendor = self.policy.vendor.name.clone();
            let event = Event::VendorReminded { vendor, to: to.iter().map(ToString::to_string).collect() };
            tx.record(w.ticket_id, now, ACTOR, &event).await?;
            tx.commit().await?;
            reminded.push(w.number);
        }
        Ok(reminded)
    }
}

/// What staff do with a ticket's vendor case in the web view.
impl Desk {
    async fn vendor_ticket(&self, tx: &mut Tx, number: &str) -> std::result::Result<TicketBrief, ActionError> {
        tx.ticket_brief(number).await?.ok_or(ActionError::NotFound)
    }

    /// Records the vendor's case number (a bare number, or text with one the policy's pattern
    /// finds) and whether it is reported open for all in the region.
    pub async fn set_vendor_case(
        &self,
        number: &str,
        entered: &str,
        open: bool,
        actor: &str,
    ) -> std::result::Result<(), ActionError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.vendor_ticket(&mut tx, number).await?;
        if !entered.trim().is_empty() {
            let Some(case) = command::case_number_entered(entered, &self.policy.vendor) else {
                return Err(ActionError::Invalid(Refusal::NotVendorCaseNumber {
                    entered: entered.to_string(),
                    vendor: self.policy.vendor.name.clone(),
                }));
            };
            self.record_case(&mut tx, t.id, &case, actor, false, now).await?;
        }
        self.open_to_region(&mut tx, t.id, open, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The vendor solved it: the ticket is resolved and the reporter told.
    pub async fn resolve_vendor_case(&self, number: &str, actor: &str) -> std::result::Result<(), ActionError> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.store.begin().await?;
        let t = self.vendor_ticket(&mut tx, number).await?;
        if !self.resolve_by_vendor(&mut tx, &t, actor, now).await? {
            return Err(ActionError::Invalid(Refusal::AlreadyResolved));
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Sends the reminders every ten minutes (on one instance at a time) until shutdown.
pub async fn remind_loop(desk: Desk, instance: String, shutdown: tokio::sync::watch::Receiver<bool>) {
    let job = |desk: Desk, now| async move { desk.vendor_reminders(now).await };
    super::every_ten_minutes(desk, "vendor-reminders", instance, shutdown, job).await
}
