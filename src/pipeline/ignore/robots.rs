//! Robots that set no robot header: bounces written as plain text by mail servers, vacation
//! replies from clients that add no `Auto-Submitted`, read receipts and calendar answers. Each is
//! recognised only by what such robots always write; a person who quotes those words in a fault
//! report ("Fikk feilmelding 'could not be delivered' i Visma") still gets a ticket.

use super::Evidence;
use crate::pipeline::parse::ParsedMail;

/// Subjects mail servers give their bounces, exactly as written (lower-cased): nobody titles their
/// own mail like this, and a person who forwards one adds `Fwd:`/`VS:` in front.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undelivered mail returned to sender",
    "delivery status notification (failure)",
    "delivery status notification (delay)",
    "returned mail: see transcript for details",
    "mail delivery failed: returning message to sender",
    "failure notice",
    "mail delivery subsystem",
    "nondeliverable mail",
    "message delivery failure",
];

/// Subject openings of bounces that a person might also write ("Ikke levert: lønnsfil til banken"):
/// a bounce only with a bounce's body or a robot's sender.
const BOUNCE_SUBJECT_STARTS: &[&str] = &[
    "undeliverable:",
    "unzustellbar:",
    "kan ikke leveres:",
    "ikke levert:",
    "ikke leverbar:",
    "mail delivery failed",
    "delivery failure",
    "returned mail",
    "mail could not be delivered",
    "mail delivery warning",
    "delivery status notification",
    "your message to ",
    "din melding til ",
];

/// What the bodies of bounces say (lower-cased): Postfix, Sendmail, Exim, qmail, Exchange, Gmail.
const BOUNCE_BODIES: &[&str] = &[
    "this is the mail system at host",
    "i'm sorry to have to inform you that your message could not",
    "this message was created automatically by mail delivery software",
    "a message that you sent could not be delivered",
    "the following addresses had permanent fatal errors",
    "transcript of session follows",
    "this is the qmail-send program",
    "delivery has failed to these recipients or groups",
    "leveringen til disse mottakerne eller gruppene mislyktes",
    "your message couldn't be delivered",
    "meldingen din kunne ikke leveres",
    "diagnostic information for administrators",
    "diagnostisk informasjon for administratorer",
    "delivery to the following recipient failed permanently",
    "delivery to the following recipients failed",
    "diagnostic-code:",
    "final-recipient:",
    "remote server returned",
    // Exchange 5.5, InterScan, Symantec and other gateways (tests/fixtures/bounces).
    "did not reach the following recipient",
    "could not be delivered to the following recipient",
    "could not deliver message to the following recipient",
    "unable to deliver message to",
    "your message has not been delivered",
    "-------- returned mail --------",
    "delivery attempts will continue to be made",
    "has been postponed due to",
];

/// Local parts robots send from.
const ROBOT_SENDERS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon", "microsoftexchange", "mdaemon"];

/// Vacation-reply subject openings that need an absence in the body to count: a person may write
/// "Fraværsmelding virker ikke i Outlook".
const ABSENCE_SUBJECTS: &[&str] =
    &["fraværsmelding", "automatisk svar", "autosvar", "out of office", "auto reply", "autoreply", "abwesenheit"];

/// How people say they are away (lower-cased), in the region's languages.
const ABSENCE_BODIES: &[&str] = &[
    "er på ferie",
    "er ute av kontoret",
    "er borte fra kontoret",
    "er ikkje på kontoret",
    "er ikke på kontoret",
    "er fraværende",
    "er fråverande",
    "har ferie",
    "tilbake på jobb",
    "begrenset tilgang til e-post",
    "i am out of the office",
    "i'm out of the office",
    "i am currently out",
    "i'm currently out",
    "i will be back",
    "i'll be back",
    "limited access to e-mail",
    "limited access to email",
];

/// Evidence that the mail is a bounce without any structure or header saying so.
pub fn bounce(mail: &ParsedMail, from_local: Option<&str>) -> Option<Evidence> {
    let subject = mail.subject.trim().to_lowercase();
    if let Some(s) = BOUNCE_SUBJECTS.iter().find(|s| subject == **s || subject.starts_with(&format!("{s}:"))) {
        return Some(Evidence::Subject { subject: s.to_string() });
    }
    let start = BOUNCE_SUBJECT_STARTS.iter().find(|s| subject.starts_with(**s))?.to_string();
    let robot = from_local.filter(|l| ROBOT_SENDERS.iter().any(|r| l.starts_with(r)));
    if let Some(r) = robot {
        return Some(Evidence::SubjectStart { start, sender: Some(r.to_string()), body: None });
    }
    let body = mail.own_text.to_lowercase();
    let says = BOUNCE_BODIES.iter().find(|b| body.contains(**b))?;
    Some(Evidence::SubjectStart { start, sender: None, body: Some(says.to_string()) })
}

/// Evidence that the mail is an absence notice sent without `Auto-Submitted`.
pub fn absence(mail: &ParsedMail, subject: &str) -> Option<Evidence> {
    let start = ABSENCE_SUBJECTS.iter().find(|s| subject.starts_with(**s))?.to_string();
    let body = mail.own_text.to_lowercase();
    let says = ABSENCE_BODIES.iter().find(|b| body.contains(**b))?;
    Some(Evidence::SubjectStart { start, sender: None, body: Some(says.to_string()) })
}

/// The `report-type` of a `multipart/report` (RFC 6522), lower-cased.
pub fn report_type(mail: &ParsedMail) -> Option<String> {
    parameter(mail.header("Content-Type")?, "report-type")
}

/// The iCalendar method of a meeting invitation or an answer to one (`REQUEST`, `REPLY`,
/// `CANCEL` …), from the calendar part's `method` parameter or its `METHOD:` line.
pub fn calendar_method(mail: &ParsedMail) -> Option<String> {
    let top = (mail.content_type == "text/calendar")
        .then(|| {
            mail.header("Content-Type")
                .and_then(|ct| parameter(ct, "method"))
                .or_else(|| method_line(mail.text.as_bytes()))
        })
        .flatten();
    top.or_else(|| {
        mail.parts
            .iter()
            .filter(|p| !p.nested && matches!(p.content_type.as_str(), "text/calendar" | "application/ics"))
            .find_map(|p| method_line(&p.data))
    })
    .or_else(|| (mail.content_type == "text/calendar").then(|| "(none given)".to_string()))
    .map(|m| m.to_ascii_uppercase())
}

/// `METHOD:REPLY` in an iCalendar text.
fn method_line(data: &[u8]) -> Option<String> {
    String::from_utf8_lossy(data).lines().find_map(|l| {
        let (name, value) = l.trim().split_once(':')?;
        name.eq_ignore_ascii_case("METHOD").then(|| value.trim().to_string()).filter(|v| !v.is_empty())
    })
}

/// A parameter of a header value such as `multipart/report; report-type="delivery-status"`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests;
