//! Step 4: who gets the report. The municipality comes from the sender's domain; the class picks the
//! policy's route; reports the policy cannot place go to the helpdesk for manual triage. Also decides
//! whether the report is held for missing details and which reply the reporter gets.

use serde::Serialize;

use crate::domain::Class;
use crate::pipeline::check::{Checks, email};
use crate::pipeline::classify::Classification;
use crate::pipeline::ignore;
use crate::pipeline::parse::ParsedMail;
use crate::pipeline::reason::{NoReply, Reason, Withheld};
use crate::policy::{Municipality, Policy, Target};
use crate::text::address::EmailAddress;

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
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
    /// The helpdesk must look at it by hand (unknown sender or unclassified).
    pub manual_triage: bool,
    /// Waiting for the reporter's missing details before it is sent on.
    pub held: bool,
    /// The routine's words for this route, included in the routing mail.
    pub note: String,
    /// The automatic reply the report calls for; none goes out while [`Routing::withheld`] says why.
    pub reply: Reply,
    /// Where the reply goes (the reporter), when there is one: always a single address inside
    /// the region (see [`reply_address`]).
    pub reply_to: Option<EmailAddress>,
    /// Why the reporter, who could be answered, gets no automatic reply (the mail asked for none,
    /// came from a program, or did not name the helpdesk in To or Cc). Nobody is asked for
    /// missing details then, so the report is never held.
    pub withheld: Option<Withheld>,
    pub reasons: Vec<Reason>,
}

impl Routing {
    /// No automatic reply for this report, for `why`: a held report is routed at once instead,
    /// since nobody will be asked for its missing details.
    pub fn withhold_reply(&mut self, why: Withheld) {
        if self.reply_to.is_none() || self.withheld.is_some() {
            return;
        }
        self.reasons.push(Reason::Withheld { why: why.clone() });
        if self.held {
            self.held = false;
            self.reasons.push(Reason::NobodyAsked);
        }
        self.withheld = Some(why);
    }

    /// The reply that goes out: none while it is withheld.
    pub fn reply_sent(&self) -> Reply {
        if self.withheld.is_some() { Reply::None } else { self.reply }
    }
}

pub fn route(mail: &ParsedMail, checks: &Checks, classification: &Classification, policy: &Policy) -> Routing {
    let mut reasons = Vec::new();
    let sender = mail.from_address();
    let municipality = sender.as_ref().and_then(|s| policy.municipality_of(s));
    match (municipality, &sender) {
        (Some(m), Some(s)) => {
            reasons.push(Reason::Municipality { id: m.id.clone(), name: m.name.clone(), sender: s.to_string() })
        }
        (None, Some(s)) => reasons.push(Reason::OutsideRegion { sender: s.to_string() }),
        (_, None) => reasons.push(Reason::NoSender),
    }

    let r = recipients(classification.class, municipality, policy);
    if r.manual_triage {
        reasons.push(Reason::ManualTriage { helpdesk: policy.helpdesk.email.to_string() });
    } else {
        reasons
            .push(Reason::Routed { class: classification.class, to: r.to.iter().map(ToString::to_string).collect() });
    }
    let Recipients { to, cc, note, manual_triage } = r;

    let reply_to = reply_address(mail, checks, municipality, policy, &mut reasons);
    let incomplete = !checks.missing.is_empty();
    // Held only when someone can be asked for the details; otherwise it would wait for good.
    let held = incomplete && reply_to.is_some() && (policy.hold_urgent_incomplete || !classification.urgent);
    if incomplete && reply_to.is_none() {
        reasons.push(Reason::NobodyAsked);
    } else if incomplete && !held {
        reasons.push(Reason::UrgentIncomplete);
    } else if held {
        reasons.push(Reason::Held);
    }

    let reply = match &reply_to {
        None => Reply::None,
        Some(_) if incomplete => Reply::RequestInfo,
        Some(_) => Reply::Acknowledgement,
    };

    let mut routing = Routing {
        municipality: municipality.map(|m| m.id.clone()),
        to,
        cc,
        manual_triage,
        held,
        note,
        reply,
        reply_to,
        withheld: None,
        reasons,
    };
    if let Some(why) = ignore::no_automatic_reply(mail) {
        routing.withhold_reply(why);
    }
    routing
}

/// The one address an automatic reply may go to — or none. Automatic mail from the helpdesk's own
/// address must only ever reach someone in the region who wrote to us:
/// - the sender (`Reply-To` when it names exactly one address, else `From`), when that address is
///   inside the region's domains and can be answered;
/// - the reporter's own address found in the body (a web form sent from a no-reply mailbox), only
///   when it is in the sender's own municipality;
/// - never an outside address from a body or a `Reply-To`; outside senders only when the policy
///   says so (`senders.reply_to_unknown`), and then only their `From`.
pub fn reply_address(
    mail: &ParsedMail,
    checks: &Checks,
    municipality: Option<&Municipality>,
    policy: &Policy,
    reasons: &mut Vec<Reason>,
) -> Option<EmailAddress> {
    let Some(from) = mail.from_address() else {
        reasons.push(Reason::NoReply { why: NoReply::NoSender });
        return None;
    };
    let in_region = |a: &EmailAddress| policy.municipality_of(a).is_some();
    let answerable = |a: &EmailAddress| !email::is_no_reply(a, policy);

    // The reporter named in the body (checks.email differs from the sender only then).
    if let (Some(own), Some(m)) = (checks.email.as_ref().filter(|e| **e != from), municipality)
        && m.domains.iter().any(|d| crate::text::address::is_within(own.domain(), d))
        && answerable(own)
    {
        return Some(own.clone());
    }

    if municipality.is_none() {
        if policy.senders.reply_to_unknown && answerable(&from) {
            return Some(from);
        }
        reasons.push(Reason::NoReply { why: NoReply::OutsideRegion });
        return None;
    }
    let sender = match mail.reply_to.as_slice() {
        [one] if in_region(&one.address) && answerable(&one.address) => one.address.clone(),
        [] => from,
        _ => {
            reasons.push(Reason::ReplyToUnused);
            from
        }
    };
    if !answerable(&sender) {
        reasons.push(Reason::NoReply { why: NoReply::CannotBeAnswered { sender: sender.to_string() } });
        return None;
    }
    Some(sender)
}

/// Who gets a report of `class` from `municipality`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipients {
    pub to: Vec<EmailAddress>,
    pub cc: Vec<EmailAddress>,
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
fn resolve(targets: &[Target], m: &Municipality, policy: &Policy) -> Vec<EmailAddress> {
    let mut out: Vec<EmailAddress> = Vec::new();
    for t in targets {
        let addrs: Vec<EmailAddress> = match t {
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
