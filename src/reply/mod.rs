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
    /// The request to report it to the vendor (rendered [`VendorCase`]).
    vendor_case: Option<String>,
}

#[derive(Template)]
#[template(path = "mail/vendor_case.txt")]
struct VendorCase<'a> {
    vendor: &'a str,
    ticket: &'a str,
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
    let subject = or_no_subject(&subject);
    if prefix.is_empty() { format!("{tag} {subject}") } else { format!("{tag} {prefix}: {subject}") }
}

fn greeting_name(d: &Decision) -> String {
    first_name(d.mail.from.as_ref().and_then(|m| m.name.as_deref()))
}

fn subject_or_none(d: &Decision) -> &str {
    or_no_subject(&d.mail.subject)
}

/// A subject as the mail names it: "(uten emne)" for none.
fn or_no_subject(subject: &str) -> &str {
    if subject.is_empty() { "(uten emne)" } else { subject }
}

/// What the reply and routing mail say besides the decision: a known vendor issue
/// (`title (stage) link`) and the regional status page's address.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub vendor_issue: Option<&'a str>,
    pub status_page: Option<&'a str>,
    /// The vendor to report the fault to, when the routing mail asks for its case number.
    pub vendor_case: Option<&'a str>,
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
        vendor_case: cx.vendor_case.map(|vendor| VendorCase { vendor, ticket }.render()).transpose()?,
    }
    .render()?;
    let prefix = match (d.classification.urgent, class) {
        (true, _) => format!("HASTER – {}", class.label_nb()),
        (false, _) => format!("Feilmelding – {}", class.label_nb()),
    };
    Ok(Text { subject: tagged_subject(ticket, &prefix, &d.mail.subject), body })
}

/// A ticket as the mail about it names it: number and subject.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub ticket: &'a str,
    pub subject: &'a str,
}

impl About<'_> {
    fn subject(&self) -> &str {
        or_no_subject(self.subject)
    }
}

#[derive(Template)]
#[template(path = "mail/vendor_reminder.txt")]
struct VendorReminder<'a> {
    ticket: &'a str,
    subject: &'a str,
    asked: &'a str,
    vendor: &'a str,
    signature: &'a str,
}

/// The one reminder to send the vendor's case number; `asked` is when the routing mail asked.
pub fn vendor_reminder(about: About<'_>, asked: &str, policy: &Policy) -> Result<Text, askama::Error> {
    let vendor = policy.vendor.name.as_str();
    let body = VendorReminder {
        ticket: about.ticket,
        subject: about.subject(),
        asked,
        vendor,
        signature: &policy.replies.signature,
    }
    .render()?;
    let prefix = format!("Påminnelse: {vendor}-saksnummer mangler");
    Ok(Text { subject: tagged_subject(about.ticket, &prefix, about.subject), body })
}

#[derive(Template)]
#[template(path = "mail/resolved.txt")]
struct Resolved<'a> {
    greeting_name: String,
    ticket: &'a str,
    subject: &'a str,
    vendor: &'a str,
    case: Option<&'a str>,
    signature: &'a str,
}

/// To the reporter: the fault they reported is resolved (by the vendor, under `case`).
pub fn resolved(
    about: About<'_>,
    name: Option<&str>,
    case: Option<&str>,
    policy: &Policy,
) -> Result<Text, askama::Error> {
    let body = Resolved {
        greeting_name: first_name(name),
        ticket: about.ticket,
        subject: about.subject(),
        vendor: &policy.vendor.name,
        case,
        signature: &policy.replies.signature,
    }
    .render()?;
    Ok(Text { subject: tagged_subject(about.ticket, "Løst", about.subject), body })
}

#[derive(Template)]
#[template(path = "mail/question.txt")]
struct Question<'a> {
    greeting_name: String,
    asker: &'a str,
    question: &'a str,
    ticket: &'a str,
    subject: &'a str,
    signature: &'a str,
}

/// A contact's question (`asker` as it names them), to the reporter.
pub fn question(
    about: About<'_>,
    name: Option<&str>,
    asker: &str,
    question: &str,
    policy: &Policy,
) -> Result<Text, askama::Error> {
    let body = Question {
        greeting_name: first_name(name),
        asker,
        question,
        ticket: about.ticket,
        subject: about.subject(),
        signature: &policy.replies.signature,
    }
    .render()?;
    Ok(Text { subject: tagged_subject(about.ticket, "Spørsmål om feilmeldingen", about.subject), body })
}

#[derive(Template)]
#[template(path = "mail/answer.txt")]
struct Answer<'a> {
    reporter: &'a str,
    answer: &'a str,
    ticket: &'a str,
    subject: &'a str,
}

/// The reporter's answer to a question, to the contacts.
pub fn answer(about: About<'_>, reporter: &str, answer: &str) -> Result<Text, askama::Error> {
    let body = Answer { reporter, answer, ticket: about.ticket, subject: about.subject() }.render()?;
    Ok(Text { subject: tagged_subject(about.ticket, "Svar fra innmelder", about.subject), body })
}

/// What the privacy alert to the vendor says: the case's facts, no one's personal data.
#[derive(Template)]
#[template(path = "mail/privacy_vendor_alert.txt")]
pub struct PrivacyVendorAlert<'a> {
    pub customer: &'a str,
    pub vendor: &'a str,
    pub case: &'a str,
    pub ticket: &'a str,
    pub recorded: &'a str,
    pub deadline: &'a str,
    pub products: &'a str,
    pub municipality: &'a str,
    pub subject: &'a str,
    pub personal_data: &'a str,
    pub data_subjects: &'a str,
    pub helpdesk: &'a str,
    pub signature: &'a str,
}

impl PrivacyVendorAlert<'_> {
    pub fn text(&self) -> Result<Text, askama::Error> {
        let subject = format!("[{}] Mulig personvernhendelse – varsel til {}", self.case, self.vendor);
        Ok(Text { subject, body: self.render()? })
    }
}

/// ` Kari` for a greeting, from a display name.
fn first_name(name: Option<&str>) -> String {
    name.and_then(|n| n.split_whitespace().next()).map(|n| format!(" {n}")).unwrap_or_default()
}

#[cfg(test)]
mod tests;
