//! Mail that must never become a ticket nor get a reply: auto-replies, bounces, bulk mail, read
//! receipts and calendar mail (RFC 3834 and the headers real robots set; and, for the robots that
//! set none, what their subjects and bodies always say). Answering them is how mail loops start.
//! Also the mail that is a person's report but must get no automatic reply ([`no_automatic_reply`]).

mod robots;

use serde::{Deserialize, Serialize};

use crate::pipeline::parse::ParsedMail;
use crate::pipeline::reason::Withheld;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IgnoreKind {
    AutoReply,
    Bounce,
    Bulk,
    /// A read receipt (RFC 8098 message disposition notification).
    ReadReceipt,
    /// A meeting invitation or an answer to one (iCalendar).
    Calendar,
}

impl IgnoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreKind::AutoReply => "auto-reply",
            IgnoreKind::Bounce => "bounce",
            IgnoreKind::Bulk => "bulk",
            IgnoreKind::ReadReceipt => "read-receipt",
            IgnoreKind::Calendar => "calendar",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ignored {
    pub kind: IgnoreKind,
    /// The evidence, e.g. `Auto-Submitted: auto-replied`.
    pub evidence: String,
}

impl Ignored {
    /// `auto-reply (Auto-Submitted: auto-replied)`
    pub fn reason(&self) -> String {
        format!("{} ({})", self.kind.as_str(), self.evidence)
    }
}

/// Why this mail is to be ignored, or `None` for a mail a person wrote.
pub fn screen(mail: &ParsedMail) -> Option<Ignored> {
    let found = |kind, evidence: String| Some(Ignored { kind, evidence });
    let header = |name: &str| mail.header(name).map(|v| v.to_ascii_lowercase());

    // Bounces first: a DSN often also carries Auto-Submitted, but "bounce" is the truer reason.
    if mail.content_type == "multipart/report" {
        if robots::report_type(mail).is_some_and(|t| t == "disposition-notification") {
            return found(IgnoreKind::ReadReceipt, "multipart/report; report-type=disposition-notification".into());
        }
        return found(IgnoreKind::Bounce, "Content-Type: multipart/report".into());
    }
    if mail.parts.iter().any(|p| !p.nested && p.content_type == "message/disposition-notification") {
        return found(IgnoreKind::ReadReceipt, "a message/disposition-notification part".into());
    }
    // A robot's From is often no valid address (`MAILER-DAEMON`, no domain): read what it says.
    // The From header as written first: `MAILER-DAEMON` is no address, and a stand-in sender
    // (see `parse`) must not hide it.
    let from_local = written_local_part(mail).or_else(|| mail.from_address().map(|a| a.local().to_string()));
    if let Some(local) = from_local.as_deref().filter(|l| matches!(*l, "mailer-daemon" | "postmaster")) {
        return found(IgnoreKind::Bounce, format!("sender {local}"));
    }
    if header("Return-Path").is_some_and(|v| v.trim() == "<>") && mail.from.is_none() {
        return found(IgnoreKind::Bounce, "null sender (Return-Path: <>) and no address to answer".into());
    }
    if let Some(v) = mail.header("X-Failed-Recipients") {
        return found(IgnoreKind::Bounce, format!("X-Failed-Recipients: {}", crate::pipeline::parse::clean_line(v)));
    }
    if let Some(evidence) = robots::bounce(mail, from_local.as_deref()) {
        return found(IgnoreKind::Bounce, evidence);
    }
    if let Some(method) = robots::calendar_method(mail) {
        return found(IgnoreKind::Calendar, format!("text/calendar METHOD:{method}"));
    }

    if let Some(v) = header("Auto-Submitted").filter(|v| !v.is_empty() && !v.starts_with("no")) {
        return found(IgnoreKind::AutoReply, format!("Auto-Submitted: {v}"));
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if let Some(v) = mail.header(name) {
            return found(IgnoreKind::AutoReply, format!("{name}: {v}"));
        }
    }
    if let Some(v) = header("Precedence") {
        match v.as_str() {
            "auto_reply" => return found(IgnoreKind::AutoReply, "Precedence: auto_reply".into()),
            "bulk" | "junk" | "list" => return found(IgnoreKind::Bulk, format!("Precedence: {v}")),
            _ => {}
        }
    }
    let subject = mail.subject.to_lowercase();
    for prefix in [
        "automatisk svar:",
        "automatic reply:",
        "autosvar:",
        "out of office:",
        "fravær:",
        "fraværsmelding:",
        "abwesenheitsnotiz:",
    ] {
        if subject.starts_with(prefix) {
            return found(IgnoreKind::AutoReply, format!("subject starts with {prefix:?}"));
        }
    }
    if let Some(evidence) = robots::absence(mail, &subject) {
        return found(IgnoreKind::AutoReply, evidence);
    }
    for name in LIST_HEADERS.iter().chain(&["Feedback-ID"]) {
        if let Some(v) = mail.header(name) {
            return found(IgnoreKind::Bulk, format!("{name}: {}", crate::pipeline::parse::clean_line(v)));
        }
    }
    None
}

/// The fields a mailing list adds (RFC 2369, RFC 2919, RFC 8058): any one of them marks list mail.
const LIST_HEADERS: &[&str] = &[
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Subscribe",
    "List-Post",
    "List-Help",
    "List-Owner",
    "List-Archive",
];

/// Why a person's mail, which does become a ticket, must still get no automatic reply — or `None`.
///
/// `X-Auto-Response-Suppress` (Exchange) is a request to the recipient, not a sign that a robot
/// wrote the mail: Outlook and forms that send on a person's behalf set it on real reports, so the
/// report is kept and the request honoured. Any value but `None` counts, even `DR` or `OOF` alone:
/// an acknowledgement is a courtesy, and a sender who asks to be spared robots' answers is spared
/// ours. A null envelope sender (`Return-Path: <>`) is how programs send notifications (RFC 5321
/// 4.5.5); answering one is how loops start.
pub fn no_automatic_reply(mail: &ParsedMail) -> Option<Withheld> {
    if let Some(v) = mail.header("X-Auto-Response-Suppress") {
        let v = crate::pipeline::parse::clean_line(v);
        let asked = v.split([',', ' ']).any(|t| !t.is_empty() && !t.eq_ignore_ascii_case("none"));
        if asked {
            return Some(Withheld::SenderAskedNone { value: v });
        }
    }
    let null_sender = mail.header("Return-Path").is_some_and(|v| v.split_whitespace().collect::<String>() == "<>");
    null_sender.then_some(Withheld::NullSender)
}

/// The local part of the `From` header as written, lower-cased, valid address or not.
fn written_local_part(mail: &ParsedMail) -> Option<String> {
    let v = mail.header("From")?;
    let inner =
        v.rsplit_once('<').map_or(v, |(_, rest)| rest.trim_end_matches(|c: char| c == '>' || c.is_whitespace()));
    let local = inner.split('@').next()?.trim().to_ascii_lowercase();
    (!local.is_empty()).then_some(local)
}

#[cfg(test)]
mod tests;
