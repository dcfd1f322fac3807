//! A decision as plain fields: the JSON contract of `routedesk triage --json`, and the label and
//! value pairs the policy tester shows.

use serde::Serialize;

use super::Decision;
use crate::domain::{Class, Detail};
use crate::text::address::EmailAddress;
use crate::text::lang::Lang;

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub file: &'a str,
    pub verdict: &'static str,
    pub ignored_reason: Option<String>,
    pub class: Class,
    pub confidence: f64,
    pub municipality: Option<&'a str>,
    pub missing: &'a [Detail],
    pub complete: bool,
    pub urgent: bool,
    pub privacy: bool,
    pub route: Route<'a>,
    pub reply: &'static str,
    pub reply_to: Option<&'a EmailAddress>,
    pub held: bool,
    pub manual_triage: bool,
    pub subject: &'a str,
    pub from: Option<EmailAddress>,
    pub message_id: Option<&'a str>,
    pub products: &'a [String],
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Route<'a> {
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
}

impl<'a> Report<'a> {
    /// The report of `d`, its reasons worded in `lang`.
    pub fn new(file: &'a str, d: &'a Decision, lang: Lang) -> Self {
        let routing = d.routing.as_ref();
        // Ignored mail is no report: it carries no class, flags or missing details.
        let ticket = d.is_ticket();
        let c = &d.classification;
        Report {
            file,
            verdict: if ticket { "ticket" } else { "ignored" },
            ignored_reason: d.ignored.as_ref().map(|i| i.reason()),
            class: if ticket { c.class } else { Class::Unclassified },
            confidence: if ticket { c.confidence } else { 0.0 },
            municipality: routing.and_then(|r| r.municipality.as_deref()),
            missing: if ticket { &d.checks.missing } else { &[] },
            complete: ticket && d.checks.complete(),
            urgent: ticket && c.urgent,
            privacy: ticket && c.privacy,
            route: Route { to: routing.map_or(&[], |r| &r.to), cc: routing.map_or(&[], |r| &r.cc) },
            reply: d.reply().as_str(),
            reply_to: routing.filter(|r| r.withheld.is_none()).and_then(|r| r.reply_to.as_ref()),
            held: routing.is_some_and(|r| r.held),
            manual_triage: routing.is_some_and(|r| r.manual_triage),
            subject: &d.mail.subject,
            from: d.mail.from_address(),
            message_id: d.mail.message_id.as_deref(),
            products: &d.classification.products,
            reasons: d.reasons().iter().map(|r| r.text(lang)).collect(),
        }
    }
}
