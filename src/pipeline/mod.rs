//! The decision pipeline: **parse → check → classify → route**, pure and synchronous. Each step is a
//! module with plain data in and out; nothing here knows of IMAP, SMTP, SQL or HTTP.

pub mod authres;
pub mod bounce;
pub mod check;
pub mod classify;
pub mod command;
pub mod ignore;
pub mod learn;
pub mod parse;
pub mod reason;
pub mod report;
pub mod route;
pub mod set_aside;

use serde::Serialize;

use crate::grouping::{Features, read, report_text};
use crate::policy::Policy;
use check::Checks;
use classify::Classification;
use ignore::Ignored;
use parse::{ParseError, ParseLimits, ParsedMail};
use reason::Reason;
use route::{Reply, Routing};

/// Everything routedesk decided about one mail.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub mail: ParsedMail,
    /// Set when the mail is an auto-reply, bounce, bulk mail, read receipt or calendar mail: never a
    /// ticket, never a reply.
    pub ignored: Option<Ignored>,
    pub checks: Checks,
    pub classification: Classification,
    /// `None` for ignored mail.
    pub routing: Option<Routing>,
    /// Our receiving server's verdict on the sender, when the caller knows which server is ours
    /// (see [`authres::verdict`]); the pipeline itself leaves it empty.
    pub auth: Option<authres::AuthVerdict>,
    /// The report's words as read once for the classifier, for the grouping to compare (the
    /// classifier's phrases are not kept: a batch of decisions would hold them all).
    #[serde(skip)]
    pub words: Features,
}

impl Decision {
    pub fn is_ticket(&self) -> bool {
        self.ignored.is_none()
    }

    pub fn reply(&self) -> Reply {
        self.routing.as_ref().map_or(Reply::None, Routing::reply_sent)
    }

    /// Every reason, in pipeline order, as data (`Reason::text` words it for a reader).
    pub fn reasons(&self) -> Vec<Reason> {
        if let Some(i) = &self.ignored {
            return vec![Reason::Ignored { what: i.kind, evidence: i.evidence.clone() }];
        }
        let mut out = self.check_reasons();
        out.extend(self.classification.reasons.iter().cloned());
        if let Some(r) = &self.routing {
            out.extend(r.reasons.iter().cloned());
        }
        out
    }

    fn check_reasons(&self) -> Vec<Reason> {
        let c = &self.checks;
        let mut out = Vec::new();
        if let Some(s) = &c.screenshot {
            out.push(Reason::Screenshot { file: s.filename.clone(), width: s.width, height: s.height });
        }
        if let Some(p) = &c.phone {
            out.push(Reason::Phone { number: p.written.clone() });
        }
        if let Some(m) = &c.mobile {
            out.push(Reason::Mobile { number: m.written.clone() });
        }
        if let Some(e) = &c.email {
            out.push(Reason::Email { address: e.to_string() });
        }
        if !c.missing.is_empty() {
            out.push(Reason::Missing { details: c.missing.clone() });
        }
        out
    }
}

/// Decides what to do with one raw mail under `policy`.
pub fn triage(raw: &[u8], policy: &Policy, limits: &ParseLimits) -> Result<Decision, ParseError> {
    let mail = parse::parse(raw, limits)?;
    Ok(decide(mail, policy))
}

/// The steps after parsing, for callers that already hold a [`ParsedMail`].
pub fn decide(mail: ParsedMail, policy: &Policy) -> Decision {
    let ignored = ignore::screen(&mail);
    let checks = check::check(&mail, policy);
    let text = report_text(&mail.subject, &mail.own_text);
    let reading = read(&text);
    let classification = classify::classify_read(&mail, &text, &reading, policy);
    let routing = ignored.is_none().then(|| route::route(&mail, &checks, &classification, policy));
    Decision { mail, ignored, checks, classification, routing, auth: None, words: reading.words }
}
