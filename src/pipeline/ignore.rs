//! Mail that must never become a ticket nor get a reply: auto-replies, bounces, bulk mail, read
//! receipts and calendar mail (RFC 3834 and the headers real robots set; and, for the robots that
//! set none, what their subjects and bodies always say). Answering them is how mail loops start.
//! Also the mail that is a person's report but must get no automatic reply ([`no_automatic_reply`]).

mod robots;

use serde::{Deserialize, Serialize};

use crate::text::lang::Lang;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    pub kind: IgnoreKind,
    pub evidence: Evidence,
}

impl Ignored {
    /// `auto-reply (Auto-Submitted: auto-replied)`, for logs and the command line's JSON.
    pub fn reason(&self) -> String {
        format!("{} ({})", self.kind.as_str(), self.evidence.text(Lang::En))
    }
}

/// What showed a mail to be a robot's, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "evidence", rename_all = "kebab-case")]
pub enum Evidence {
    /// A header field or MIME structure that says so, as written (`Auto-Submitted: auto-replied`).
    Header { text: String },
    /// A `message/disposition-notification` part.
    ReceiptPart,
    /// `MAILER-DAEMON`, `postmaster`.
    Sender { local: String },
    /// `Return-Path: <>` and no address to answer.
    NullSender,
    /// A subject robots use (`undelivered mail returned to sender`).
    Subject { subject: String },
    /// A subject that starts as robots' do, and the sender or the words of the body that confirm it.
    SubjectStart { start: String, sender: Option<String>, body: Option<String> },
}

impl Evidence {
    fn header(text: impl Into<String>) -> Evidence {
        Evidence::Header { text: text.into() }
    }

    pub fn text(&self, lang: Lang) -> String {
        let nb = lang == Lang::Nb;
        let q = |s: &str| if nb { format!("«{s}»") } else { format!("{s:?}") };
        match self {
            Evidence::Header { text } => text.clone(),
            Evidence::ReceiptPart if nb => "en del av typen message/disposition-notification".into(),
            Evidence::ReceiptPart => "a message/disposition-notification part".into(),
            Evidence::Sender { local } if nb => format!("avsender {local}"),
            Evidence::Sender { local } => format!("sender {local}"),
            Evidence::NullSender if nb => "tom avsender (Return-Path: <>) og ingen adresse å svare til".into(),
            Evidence::NullSender => "null sender (Return-Path: <>) and no address to answer".into(),
            Evidence::Subject { subject } if nb => format!("emnet {}", q(subject)),
            Evidence::Subject { subject } => format!("subject {}", q(subject)),
            Evidence::SubjectStart { start, sender, body } => {
                let mut out = if nb {
                    format!("emnet begynner med {}", q(start))
                } else {
                    format!("subject starts with {}", q(start))
                };
                if let Some(s) = sender {
                    out += &if nb { format!(", avsender {s}") } else { format!(", sender {s}") };
                }
                if let Some(b) = body {
                    out += &if nb { format!(", teksten sier {}", q(b)) } else { format!(", body says {}", q(b)) };
                }
                out
            }
        }
    }
}

/// Why this mail is to be ignored, or `None` for a mail a person wrote.
pub fn screen(mail: &ParsedMail) -> Option<Ignored> {
    let found = |kind, evidence: Evidence| Some(Ignored { kind, evidence });
    let header = |name: &str| mail.header(name).map(|v| v.to_ascii_lowercase());

    // Bounces first: a DSN often also carries Auto-Submitted, but "bounce" is the truer reason.
    if mail.content_type == "multipart/report" {
        if robots::report_type(mail).is_some_and(|t| t == "disposition-notification") {
            return found(
                IgnoreKind::ReadReceipt,
                Evidence::header("multipart/report; report-type=disposition-notification"),
            );
        }
        return found(IgnoreKind::Bounce, Evidence::header("Content-Type: multipart/report"));
    }
    if mail.parts.iter().any(|p| !p.nested && p.content_type == "message/disposition-notification") {
        return found(IgnoreKind::ReadReceipt, Evidence::ReceiptPart);
    }
    // A robot's From is often no valid address (`MAILER-DAEMON`, no domain): read what it says.
    // The From header as written first: `MAILER-DAEMON` is no address, and a stand-in sender
    // (see `parse`) must not hide it.
    let from_local = written_local_part(mail).or_else(|| mail.from_address().map(|a| a.local().to_string()));
    if let Some(local) = from_local.as_deref().filter(|l| matches!(*l, "mailer-daemon" | "postmaster")) {
        return found(IgnoreKind::Bounce, Evidence::Sender { local: local.to_string() });
    }
    if header("Return-Path").is_some_and(|v| v.trim() == "<>") && mail.from.is_none() {
        return found(IgnoreKind::Bounce, Evidence::NullSender);
    }
    if let Some(v) = mail.header("X-Failed-Recipients") {
        let v = crate::pipeline::parse::clean_line(v);
        return found(IgnoreKind::Bounce, Evidence::header(format!("X-Failed-Recipients: {v}")));
    }
    if let Some(evidence) = robots::bounce(mail, from_local.as_deref()) {
        return found(IgnoreKind::Bounce, evidence);
    }
    if let Some(method) = robots::calendar_method(mail) {
        return found(IgnoreKind::Calendar, Evidence::header(format!("text/calendar METHOD:{method}")));
    }

    if let Some(v) = header("Auto-Submitted").filter(|v| !v.is_empty() && !v.starts_with("no")) {
        return found(IgnoreKind::AutoReply, Evidence::header(format!("Auto-Submitted: {v}")));
    }
    for name in ["X-Autoreply", "X-Autorespond"] {
        if let Some(v) = mail.header(name) {
            return found(IgnoreKind::AutoReply, Evidence::header(format!("{name}: {v}")));
        }
    }
    if let Some(v) = header("Precedence") {
        match v.as_str() {
            "auto_reply" => return found(IgnoreKind::AutoReply, Evidence::header("Precedence: auto_reply")),
            "bulk" | "junk" | "list" => return found(IgnoreKind::Bulk, Evidence::header(format!("Precedence: {v}"))),
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
            let start = prefix.to_string();
            return found(IgnoreKind::AutoReply, Evidence::SubjectStart { start, sender: None, body: None });
        }
    }
    if let Some(evidence) = robots::absence(mail, &subject) {
        return found(IgnoreKind::AutoReply, evidence);
    }
    for name in LIST_HEADERS.iter().chain(&["Feedback-ID"]) {
        if let Some(v) = mail.header(name) {
            let v = crate::pipeline::parse::clean_line(v);
            return found(IgnoreKind::Bulk, Evidence::header(format!("{name}: {v}")));
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
