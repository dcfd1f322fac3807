//! The texts routedesk sends: the acknowledgement and the request for missing details to the
//! reporter, and the routing mail to the contacts. Layout lives in `templates/mail/` (askama), the
//! policy supplies the words.

use askama::Template;

use crate::pipeline::Decision;
use crate::policy::Policy;
use crate::text::lang::Lang;

/// A rendered mail: subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "mail/acknowledgement.txt")]
struct Acknowledgement<'a> {
    vendor_issue: Option<&'a str>,
    status_page: Option<&'a str>,
    greeting_name: String,
    intro: &'a str,
    ticket: &'a str,
    subject: &'a str,
    class_label: &'a str,
    recipients: String,
    urgent: bool,
    urgent_text: &'a str,
    signature: &'a str,
}

#[derive(Template)]
#[template(path = "mail/request_info.txt")]
struct RequestInfo<'a> {
    greeting_name: String,
    intro: &'a str,
    missing: Vec<&'static str>,
    ticket: &'a str,
    subject: &'a str,
    urgent: bool,
    urgent_text: &'a str,
    signature: &'a str,
}

#[derive(Template)]
#[template(path = "mail/routing.txt")]
struct Routing<'a> {
    reporter: String,
    municipality: String,
    ticket: &'a str,
    subject: &'a str,
    class_label: &'a str,
    confidence: String,
    urgent: bool,
    privacy: bool,
    products: String,
    contact: String,
    missing: String,
    note: &'a str,
    reasons: Vec<String>,
    same_fault: Option<&'a SameFault>,
    vendor_issue: Option<&'a str>,
}

/// Other reports of the same fault, for the routing mail.
#[derive(Debug, Clone)]
pub struct SameFault {
    pub incident: String,
    /// How many other reports there are …
    pub count: usize,
    /// … and the first of them by number (at most ten, so a flood keeps the mail readable).
    pub shown: Vec<String>,
}

#[derive(Template)]
#[template(path = "mail/incident.txt")]
struct Incident<'a> {
    incident: &'a str,
    title: &'a str,
    reports: &'a [(String, String, String)],
    municipalities: usize,
    signature: &'a str,
}

/// The one mail to the helpdesk when reports become a suspected incident; `reports` are
/// `(ticket, municipality, subject)`.
pub fn incident(
    number: &str,
    title: &str,
    reports: &[(String, String, String)],
    policy: &Policy,
) -> Result<Text, askama::Error> {
    let mut munis: Vec<&str> = reports.iter().map(|r| r.1.as_str()).collect();
    munis.sort_unstable();
    munis.dedup();
    let body = Incident {
        incident: number,
        title,
        reports,
        municipalities: munis.len(),
        signature: &policy.replies.signature,
    }
    .render()?;
    let subject = format!(
        "[{number}] Mulig felles feil: {} meldinger – {}",
        reports.len(),
        crate::pipeline::parse::clean_line(title)
    );
    Ok(Text { subject, body })
}

/// `[RD-2026-000123] subject`, without repeating a tag the subject already carries.
pub fn tagged_subject(ticket: &str, prefix: &str, subject: &str) -> String {
    let tag = format!("[{ticket}]");
    let subject = subject.replace(&tag, "");
    let subject = crate::pipeline::parse::clean_line(&subject);
    let subject = if subject.is_empty() { "(uten emne)".to_string() } else { subject };
    if prefix.is_empty() { format!("{tag} {subject}") } else { format!("{tag} {prefix}: {subject}") }
}

fn greeting_name(d: &Decision) -> String {
    d.mail
        .from
        .as_ref()
        .and_then(|m| m.name.as_deref())
        .and_then(|n| n.split_whitespace().next())
        .map(|n| format!(" {n}"))
        .unwrap_or_default()
}

fn subject_or_none(d: &Decision) -> &str {
    if d.mail.subject.is_empty() { "(uten emne)" } else { &d.mail.subject }
}

/// What the reply and routing mail say besides the decision: a known vendor issue
/// (`title (stage) link`) and the regional status page's address.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub vendor_issue: Option<&'a str>,
    pub status_page: Option<&'a str>,
}

pub fn acknowledgement(d: &Decision, ticket: &str, policy: &Policy, cx: Context<'_>) -> Result<Text, askama::Error> {
    let recipients = d.routing.as_ref().map(|r| crate::text::address::join(&r.to, ", ")).unwrap_or_default();
    let body = Acknowledgement {
        vendor_issue: cx.vendor_issue,
        status_page: cx.status_page,
        greeting_name: greeting_name(d),
        intro: &policy.replies.acknowledgement,
        ticket,
        subject: subject_or_none(d),
        class_label: d.classification.class.label_nb(),
        recipients,
        urgent: d.classification.urgent,
        urgent_text: &policy.replies.urgent,
        signature: &policy.replies.signature,
    }
    .render()?;
    Ok(Text { subject: tagged_subject(ticket, "Mottatt", &d.mail.subject), body })
}

pub fn request_info(d: &Decision, ticket: &str, policy: &Policy) -> Result<Text, askama::Error> {
    let body = RequestInfo {
        greeting_name: greeting_name(d),
        intro: &policy.replies.request_info,
        missing: d.checks.missing.iter().map(|m| m.label_nb()).collect(),
        ticket,
        subject: subject_or_none(d),
        urgent: d.classification.urgent,
        urgent_text: &policy.replies.urgent,
        signature: &policy.replies.signature,
    }
    .render()?;
    Ok(Text { subject: tagged_subject(ticket, "Mangler opplysninger", &d.mail.subject), body })
}

pub fn routing(
    d: &Decision,
    ticket: &str,
    policy: &Policy,
    same_fault: Option<&SameFault>,
    cx: Context<'_>,
) -> Result<Text, askama::Error> {
    let routing = d.routing.as_ref();
    let municipality = routing
        .and_then(|r| r.municipality.as_deref())
        .and_then(|id| policy.municipality(id))
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let reporter = match &d.mail.from {
        Some(m) => m.name.as_ref().map_or_else(|| m.address.to_string(), |n| format!("{n} <{}>", m.address)),
        None => "(ukjent avsender)".to_string(),
    };
    let c = &d.checks;
    let contact = [
        c.phone.as_ref().map(|p| format!("tlf. {}", p.written)),
        c.mobile.as_ref().map(|m| format!("mobil {}", m.written)),
        c.email.as_ref().map(|e| e.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    let class = d.classification.class;
    let body = Routing {
        reporter,
        municipality,
        ticket,
        subject: subject_or_none(d),
        class_label: class.label_nb(),
        confidence: format!("{:.0} %", d.classification.confidence * 100.0),
        urgent: d.classification.urgent,
        privacy: d.classification.privacy,
        products: d.classification.products.join(", "),
        contact: if contact.is_empty() { "(ingen oppgitt)".to_string() } else { contact },
        missing: c.missing.iter().map(|m| m.label_nb()).collect::<Vec<_>>().join(", "),
        note: routing.map_or("", |r| r.note.as_str()),
        reasons: d.reasons().iter().map(|r| r.text(Lang::Nb)).collect(),
        same_fault,
        vendor_issue: cx.vendor_issue,
    }
    .render()?;
    let prefix = match (d.classification.urgent, class) {
        (true, _) => format!("HASTER – {}", class.label_nb()),
        (false, _) => format!("Feilmelding – {}", class.label_nb()),
    };
    Ok(Text { subject: tagged_subject(ticket, &prefix, &d.mail.subject), body })
}

#[cfg(test)]
mod tests;
