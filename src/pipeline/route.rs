//! Step 4: who gets the report. The municipality comes from the sender's domain; the class picks the
//! policy's route; reports the policy cannot place go to the helpdesk for manual triage. Also decides
//! whether the report is held for missing details and which reply the reporter gets.

use serde::Serialize;

use crate::domain::Class;
use crate::pipeline::check::{Checks, email};
use crate::pipeline::classify::Classification;
use crate::pipeline::parse::ParsedMail;
use crate::policy::{Municipality, Policy, Target};
use crate::text::address;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reply {
    Acknowledgement,
    RequestInfo,
    None,
}

impl Reply {
    pub fn as_str(self) -> &'static str {
        match self {
            Reply::Acknowledgement => "acknowledgement",
            Reply::RequestInfo => "request-info",
            Reply::None => "none",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Routing {
    /// Policy id of the sender's municipality.
    pub municipality: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    /// The helpdesk must look at it by hand (unknown sender or unclassified).
    pub manual_triage: bool,
    /// Waiting for the reporter's missing details before it is sent on.
    pub held: bool,
    /// The routine's words for this route, included in the routing mail.
    pub note: String,
    pub reply: Reply,
    /// Where the reply goes (the reporter), when there is one.
    pub reply_to: Option<String>,
    pub reasons: Vec<String>,
}

pub fn route(mail: &ParsedMail, checks: &Checks, classification: &Classification, policy: &Policy) -> Routing {
    let mut reasons = Vec::new();
    let sender = mail.from_address();
    let municipality = sender.as_deref().and_then(address::domain_of).and_then(|d| policy.municipality_for_domain(&d));
    match (municipality, &sender) {
        (Some(m), Some(s)) => reasons.push(format!("municipality {}: sender {s}", m.id)),
        (None, Some(s)) => reasons.push(format!("sender {s} is outside the region's domains")),
        (_, None) => reasons.push("the mail has no sender address".to_string()),
    }

    let r = recipients(classification.class, municipality, policy);
    if r.manual_triage {
        reasons.push(format!("manual triage by the helpdesk ({})", policy.helpdesk.email));
    } else {
        reasons.push(format!("route {}: to {}", classification.class, r.to.join(", ")));
    }
    let Recipients { to, cc, note, manual_triage } = r;

    let incomplete = !checks.missing.is_empty();
    let held = incomplete && (policy.hold_urgent_incomplete || !classification.urgent);
    if incomplete && !held {
        reasons.push("urgent: routed at once although details are missing".to_string());
    } else if held {
        reasons.push("held until the reporter sends the missing details".to_string());
    }

    // The reply goes to the reporter: their own address where one was found (a web form sent from
    // noreply@ carries it in the body), else a shared mailbox that sent it; never to a no-reply sender.
    let reply_to = checks.email.clone().or_else(|| sender.clone().filter(|s| !email::is_no_reply(s, policy)));
    let reply = match &reply_to {
        None => {
            reasons.push(match &sender {
                Some(s) => format!("no reply: {s} cannot be answered and the report names no other address"),
                None => "no reply: the mail has no sender".to_string(),
            });
            Reply::None
        }
        Some(_) if municipality.is_none() && !policy.senders.reply_to_unknown => {
            reasons.push("no reply to senders outside the region".to_string());
            Reply::None
        }
        Some(_) if incomplete => Reply::RequestInfo,
        Some(_) => Reply::Acknowledgement,
    };
    let reply_to = reply_to.filter(|_| reply != Reply::None);

    Routing {
        municipality: municipality.map(|m| m.id.clone()),
        to,
        cc,
        manual_triage,
        held,
        note,
        reply,
        reply_to,
        reasons,
    }
}

/// Who gets a report of `class` from `municipality`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub note: String,
    pub manual_triage: bool,
}

/// The policy's route for `class` from `municipality`; the helpdesk, for manual triage, when the
/// municipality is unknown or the class undecided.
pub fn recipients(class: Class, municipality: Option<&Municipality>, policy: &Policy) -> Recipients {
    match municipality {
        Some(m) if class != Class::Unclassified => {
            let rule = policy.route_for(class, Some(&m.id));
            let mut to = resolve(&rule.to, m, policy);
            if to.is_empty() {
                to.push(policy.helpdesk.email.clone());
            }
            let cc = resolve(&rule.cc, m, policy).into_iter().filter(|a| !to.contains(a)).collect();
            Recipients { to, cc, note: rule.note.clone(), manual_triage: false }
        }
        _ => Recipients {
            to: vec![policy.helpdesk.email.clone()],
            cc: vec![],
            note: policy.route_for(Class::Unclassified, None).note.clone(),
            manual_triage: true,
        },
    }
}

/// Addresses for targets, in order, without repeats.
fn resolve(targets: &[Target], m: &Municipality, policy: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in targets {
        let addrs: Vec<String> = match t {
            Target::Contacts => m.contacts.iter().map(|c| c.email.clone()).collect(),
            Target::LocalIt => vec![m.local_it.clone().unwrap_or_else(|| policy.helpdesk.email.clone())],
            Target::Helpdesk => vec![policy.helpdesk.email.clone()],
            Target::Address(a) => vec![a.clone()],
        };
        for a in addrs {
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}
