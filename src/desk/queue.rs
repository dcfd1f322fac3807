//! The mail a ticket causes, queued in the outbox within the ticket's own transaction: the routing
//! mail to the contacts and the automatic reply to the reporter (with the loop guards).

use std::sync::Arc;

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::group::InIncident;
use super::{ACTOR, Desk};
use crate::config::Config;
use crate::domain::event::Event;
use crate::domain::{Class, IncidentState, OutboxKind, OutboxStatus};
use crate::pipeline::Decision;
use crate::pipeline::reason::Withheld;
use crate::pipeline::route::Reply;
use crate::reply;
use crate::store::{IncidentBrief, IncidentStanding, NewOutbox, Tx};
use crate::text::address::EmailAddress;

/// What the intake knows of a ticket it has just opened in this transaction, so queueing its mail
/// reads nothing back: the known vendor issue, the group it joined (as it stands after the report),
/// and no vendor case or reply yet.
pub(super) struct Opened<'a> {
    pub vendor_issue: Option<&'a str>,
    pub group: Option<&'a InIncident>,
}

impl Desk {
    /// Queues a ticket's routing mail; `opened` when the ticket was opened in this transaction
    /// (else its incident, vendor issue and vendor case are read from the store).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn queue_routing(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        report: i64,
        d: &Decision,
        now: OffsetDateTime,
        actor: &str,
        opened: Option<&Opened<'_>>,
    ) -> Result<()> {
        let routing = d.routing.as_ref().context("a ticket decision always has a route")?;
        // Reports of the same fault are named; once they are a suspected or confirmed incident the
        // helpdesk has had its one mail about it and gets no copy of each.
        let read;
        let incident = match opened {
            Some(o) => o.group,
            None => {
                read = match tx.incident_of(ticket).await? {
                    Some(IncidentBrief { id, .. }) => {
                        let IncidentStanding { number: inc, state, reports, shown, .. } =
                            tx.incident_standing(id, number, 10).await?;
                        Some(InIncident { number: inc, state, reports, shown })
                    }
                    None => None,
                };
                read.as_ref()
            }
        };
        let mut same = None;
        let mut cc = routing.cc.clone();
        let mut folded = false;
        if let Some(InIncident { number: inc, state, reports, shown }) = incident {
            let count = usize::try_from(reports - 1).unwrap_or(0).max(shown.len());
            if matches!(state, IncidentState::Suspected | IncidentState::Confirmed) {
                let before = cc.len();
                cc.retain(|a| *a != self.policy.helpdesk.email);
                folded = cc.len() < before;
            }
            same = Some(reply::SameFault { incident: inc.clone(), count, shown: shown.clone() });
        }
        let vendor_issue = match opened {
            Some(o) => o.vendor_issue.map(String::from),
            None => tx.ticket_vendor_issue(ticket).await?,
        };
        let ask = self.asks_vendor_case(tx, ticket, d, opened.is_some()).await?;
        let cx = reply::Context {
            vendor_issue: vendor_issue.as_deref(),
            status_page: self.status_page.as_deref(),
            vendor_case: ask.then_some(self.policy.vendor.name.as_str()),
        };
        let text = reply::routing(d, number, &self.policy, same.as_ref(), cx).context("rendering the routing mail")?;
        let id = self.new_message_id();
        tx.insert_outbox(&NewOutbox {
            ticket_id: Some(ticket),
            kind: OutboxKind::Routing,
            message_id: &id,
            envelope_from: &self.mailbox,
            to: &routing.to,
            cc: &cc,
            in_reply_to: d.mail.message_id.as_deref(),
            report_message: Some(report),
            subject: &text.subject,
            body: &text.body,
            status: self.initial_status(),
            at: now,
        })
        .await?;
        let followed_in = match (incident, folded) {
            (Some(InIncident { number: inc, .. }), true) => Some(inc.clone()),
            _ => None,
        };
        let routed = Event::Routed {
            manual: d.classification.class == Class::Unclassified || routing.manual_triage,
            to: routing.to.iter().map(ToString::to_string).collect(),
            cc: cc.iter().map(ToString::to_string).collect(),
            followed_in,
        };
        tx.record(ticket, now, actor, &routed).await?;
        if ask {
            tx.ask_vendor_case(ticket, now).await?;
            tx.record(ticket, now, actor, &Event::VendorCaseAsked { vendor: self.policy.vendor.name.clone() }).await?;
        }
        Ok(())
    }

    /// Queues the automatic reply to the reporter of a ticket opened in this transaction.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn queue_reply(
        &self,
        tx: &mut Tx,
        ticket: i64,
        number: &str,
        kind: Reply,
        to: &EmailAddress,
        d: &Decision,
        now: OffsetDateTime,
        opened: &Opened<'_>,
    ) -> Result<()> {
        let mail = match kind {
            Reply::RequestInfo => OutboxKind::RequestInfo,
            _ => OutboxKind::Acknowledgement,
        };
        if let Some(why) = d.routing.as_ref().and_then(|r| r.withheld.clone()) {
            // Not `reply-suppressed`: that kind counts towards the "loop suspected" alert.
            return tx.record(ticket, now, ACTOR, &Event::ReplyWithheld { mail, to: to.to_string(), why }).await;
        }
        // Two robots must not be able to loop: one automatic reply per sender per ticket (this is
        // the ticket's first, made as it opens), and a cap per hour.
        let hour_ago = now - time::Duration::hours(1);
        let gate = tx.reply_gate(to, now, hour_ago, self.replies_per_hour > 0).await?;
        if let Some(until) = gate.until {
            let blocked = Event::ReplyBlocked { mail, to: to.to_string(), until: crate::text::time::when(until) };
            return tx.record(ticket, now, ACTOR, &blocked).await;
        }
        if gate.to_address >= i64::from(self.replies_per_sender_per_hour) {
            let capped = Event::ReplyCapSender { mail, to: to.to_string(), count: gate.to_address };
            return tx.record(ticket, now, ACTOR, &capped).await;
        }
        if let Some(all) = gate.in_all.filter(|all| *all >= i64::from(self.replies_per_hour)) {
            let capped = Event::ReplyCapAll { mail, to: to.to_string(), count: all };
            return tx.record(ticket, now, ACTOR, &capped).await;
        }
        let cx = reply::Context {
            vendor_issue: opened.vendor_issue,
            status_page: self.status_page.as_deref(),
            vendor_case: None,
        };
        let text = match kind {
            Reply::RequestInfo => reply::request_info(d, number, &self.policy),
            _ => reply::acknowledgement(d, number, &self.policy, cx),
        }
        .context("rendering the reply")?;
        let id = self.new_message_id();
        tx.insert_outbox(&NewOutbox {
            ticket_id: Some(ticket),
            kind: mail,
            message_id: &id,
            // RFC 3834: automatic replies go out with a null envelope sender, so bounces cannot loop.
            envelope_from: "",
            to: std::slice::from_ref(to),
            cc: &[],
            in_reply_to: d.mail.message_id.as_deref(),
            report_message: None,
            subject: &text.subject,
            body: &text.body,
            status: self.initial_status(),
            at: now,
        })
        .await?;
        tx.record(ticket, now, ACTOR, &Event::Queued { mail, to: to.to_string() }).await
    }

    /// Answers only mail written to the helpdesk: a report that named neither the mailbox nor one
    /// of its aliases in To or Cc reached us by Bcc, a list or a forward, and its sender never
    /// asked us anything. Decided before the ticket is opened, so such a report is not held for
    /// details nobody will ask for.
    pub(super) fn withhold_unaddressed_reply(&self, d: &mut Decision) {
        let named = d.mail.to.iter().chain(&d.mail.cc).any(|m| self.addressed_as.contains(&m.address));
        if let Some(routing) = d.routing.as_mut().filter(|_| !named) {
            routing.withhold_reply(Withheld::NotAddressed { mailbox: self.mailbox.to_string() });
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// Queues one mail about a ticket from the helpdesk address (not an automatic reply).
    pub(super) async fn queue_mail(
        &self,
        tx: &mut Tx,
        ticket: i64,
        kind: OutboxKind,
        to: &[EmailAddress],
        text: &reply::Text,
        in_reply_to: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let id = self.new_message_id();
        tx.insert_outbox(&NewOutbox {
            ticket_id: Some(ticket),
            kind,
            message_id: &id,
            envelope_from: &self.mailbox,
            to,
            cc: &[],
            in_reply_to,
            report_message: None,
            subject: &text.subject,
            body: &text.body,
            status: self.initial_status(),
            at: now,
        })
        .await?;
        Ok(())
    }

    pub(super) fn initial_status(&self) -> OutboxStatus {
        if self.dry_run { OutboxStatus::DryRun } else { OutboxStatus::Queued }
    }

    /// A fresh, signed Message-ID (without brackets), fixed for every retry.
    pub(super) fn new_message_id(&self) -> String {
        self.ids.new_id()
    }
}

/// The mailbox and every alias of it, as addresses (the configuration has checked them).
pub(super) fn addressed_as(cfg: &Config) -> Arc<[EmailAddress]> {
    std::iter::once(&cfg.mailbox).chain(&cfg.addressed_as).filter_map(|a| EmailAddress::parse(a).ok()).collect()
}
