//! Step 1: raw RFC 5322 bytes → [`ParsedMail`], the plain facts every later step works on.
//! mail-parser does the MIME work; this module adds HTML-to-text, image sizes, limits, and the split
//! between what the sender wrote and the text they quoted.

mod body;
mod charset;
mod eight_bit;
pub mod parts;
mod quote;
pub use quote::own_text;
pub mod tnef;

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders};
use serde::Serialize;

use crate::text::address::EmailAddress;
use crate::text::cut;

pub use parts::{ImageInfo, Part};

/// Limits on what is parsed at all; mail-parser caps neither parts nor nesting itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    pub max_bytes: usize,
    pub max_parts: usize,
    pub max_depth: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self { max_bytes: 25 * 1024 * 1024, max_parts: 500, max_depth: 20 }
    }
}

/// Why a message could not be turned into a [`ParsedMail`]. The raw message is still kept by the
/// caller; these become visible quarantined records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, serde::Deserialize)]
#[serde(tag = "error", rename_all = "kebab-case")]
pub enum ParseError {
    #[error("the message is empty")]
    Empty,
    #[error("not an e-mail message: no header could be read")]
    NotAMessage,
    #[error("the message is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the message has more than {limit} MIME parts")]
    TooManyParts { limit: usize },
    #[error("the message nests MIME parts {depth} deep; the limit is {limit}")]
    TooDeep { depth: usize, limit: usize },
    /// The reader itself failed on the mail (a bug met by odd input): set aside, never retried.
    #[error("the message could not be read: {detail}")]
    ReaderFailed { detail: String },
}

impl ParseError {
    /// The error in `lang`, for the people who review mail set aside.
    pub fn text(&self, lang: crate::text::lang::Lang) -> String {
        use crate::text::lang::Lang::{En, Nb};
        match (self, lang) {
            (ParseError::Empty, Nb) => "E-posten er tom".into(),
            (ParseError::NotAMessage, Nb) => "Ikke en e-post: ingen topptekst kunne leses".into(),
            (ParseError::TooLarge { size, limit }, Nb) => format!("E-posten er {size} byte; grensen er {limit}"),
            (ParseError::TooManyParts { limit }, Nb) => format!("E-posten har flere enn {limit} MIME-deler"),
            (ParseError::TooDeep { depth, limit }, Nb) => {
                format!("E-posten har MIME-deler {depth} nivåer inni hverandre; grensen er {limit}")
            }
            (ParseError::ReaderFailed { detail }, Nb) => format!("E-posten kunne ikke leses: {detail}"),
            (e, En) => e.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParsedMail {
    pub from: Option<Mailbox>,
    pub sender: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// RFC 3339, as the sender's clock claims.
    pub date: Option<String>,
    /// The whole body as text (HTML converted), quoted parts included.
    pub text: String,
    /// What the sender wrote: the body without quoted reply text (forwarded content is kept).
    pub own_text: String,
    /// The HTML body as sent, for sanitised display; never rendered unsanitised.
    #[serde(skip)]
    pub html: Option<String>,
    pub parts: Vec<Part>,
    /// The top-level header fields, raw, in order (names as written).
    #[serde(skip)]
    pub headers: Vec<(String, String)>,
    /// The top-level Content-Type, lower-cased (`multipart/report` marks a bounce).
    pub content_type: String,
    /// Damage found while decoding (bad charsets, broken encodings), for the record.
    pub problems: Vec<String>,
}

impl ParsedMail {
    /// The first top-level header with this name (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    /// The sender's address (`From`), when it is one valid address.
    pub fn from_address(&self) -> Option<EmailAddress> {
        self.from.as_ref().map(|m| m.address.clone())
    }
}

/// Parses one raw message within `limits`.
pub fn parse(raw: &[u8], limits: &ParseLimits) -> Result<ParsedMail, ParseError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    if raw.len() > limits.max_bytes {
        return Err(ParseError::TooLarge { size: raw.len(), limit: limits.max_bytes });
    }
    let parsed = MessageParser::default().parse(raw).ok_or(ParseError::NotAMessage)?;
    let transcoded = eight_bit::transcode_headers(&parsed, raw);
    let bytes = transcoded.as_deref().unwrap_or(raw);
    let msg = match &transcoded {
        Some(fixed) => MessageParser::default().parse(fixed).ok_or(ParseError::NotAMessage)?,
        None => parsed,
    };
    if msg.headers().is_empty() {
        return Err(ParseError::NotAMessage);
    }
    parts::check_structure(&msg, limits)?;

    let mut problems = Vec::new();
    let (text, html) = body::text_and_html(&msg, bytes, &mut problems);
    let subject = subject(&msg).map(|s| cut(clean_line(&s), MAX_SUBJECT)).unwrap_or_default();
    let parts = parts::collect(&msg, &mut problems);
    // A mail Outlook sent only as TNEF has its body inside `winmail.dat`.
    let tnef = if text.trim().is_empty() { tnef_body(&parts) } else { None };
    let (text, html) = match tnef {
        Some((tnef_text, tnef_html)) => {
            let text = tnef_text.or_else(|| tnef_html.as_deref().map(|h| body::html_to_text(h, &mut problems)));
            (text.unwrap_or_default(), tnef_html.or(html))
        }
        None => (text, html),
    };
    let own_text = quote::own_text(&text, &subject);
    let content_type = msg.content_type().map_or_else(|| "text/plain".to_string(), parts::mime_type);
    let from = first_mailbox(msg.from(), "From", &mut problems);
    let sender = first_mailbox(msg.sender(), "Sender", &mut problems);
    let reply_to = mailboxes(msg.reply_to(), "Reply-To", &mut problems);
    let from = from.or_else(|| stand_in(sender.as_ref(), &reply_to, &mut problems));
    Ok(ParsedMail {
        from,
        sender,
        reply_to,
        to: mailboxes(msg.to(), "To", &mut problems),
        cc: mailboxes(msg.cc(), "Cc", &mut problems),
        subject,
        message_id: msg.message_id().map(clean_line).filter(|s| !s.is_empty()),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        date: msg.date().map(|d| d.to_rfc3339()),
        text,
        own_text,
        html,
        parts,
        headers: msg.headers_raw().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        content_type,
        problems,
    })
}

/// The subject as written, read again where mail-parser left U+FFFD (see `charset`).
fn subject(msg: &Message<'_>) -> Option<String> {
    let first = msg.subject()?;
    // The raw header is looked up only for the rare subject that needs a second reading.
    let reread = || {
        let (_, raw) = msg.headers_raw().find(|(name, _)| name.eq_ignore_ascii_case("Subject"))?;
        charset::reread_header(raw, first)
    };
    Some(first.contains('\u{FFFD}').then(reread).flatten().unwrap_or_else(|| first.to_string()))
}

/// The plain and HTML body of the mail's own `winmail.dat`, if it has one with a body.
fn tnef_body(parts: &[Part]) -> Option<(Option<String>, Option<String>)> {
    let t = parts.iter().filter(|p| !p.nested && parts::is_tnef(p)).find_map(|p| tnef::read(&p.data))?;
    (t.text.is_some() || t.html.is_some()).then_some((t.text, t.html))
}

/// Longer subjects are cut: no person writes one, and it would end up in every mail we send.
const MAX_SUBJECT: usize = 998;

/// Header text fit to show and to reuse: control characters (CR, LF, NUL — header injection) become
/// spaces, runs of whitespace fold to one.
pub fn clean_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// One address of a header field, when it is exactly one valid address. Anything else — a list
/// packed into one `<…>`, a quoted local part with commas, a second `@` — is no address, and the
/// field's name and text go on record as a problem for staff to see.
fn mailbox(a: &mail_parser::Addr<'_>, field: &str, problems: &mut Vec<String>) -> Option<Mailbox> {
    let written = clean_line(a.address()?);
    if written.is_empty() {
        return None;
    }
    match EmailAddress::parse(&written) {
        Ok(address) => Some(Mailbox { name: a.name().map(clean_line).filter(|n| !n.is_empty()), address }),
        Err(_) => {
            problems.push(format!("{field}: {:?} is not a valid address and was not used", cut(written, 200)));
            None
        }
    }
}

fn mailboxes(a: Option<&Address<'_>>, field: &str, problems: &mut Vec<String>) -> Vec<Mailbox> {
    a.map(|a| a.iter().filter_map(|x| mailbox(x, field, problems)).collect()).unwrap_or_default()
}

/// The first address of a field that should hold one. A field that holds several does not name
/// one sender: the first valid one is taken only when it is the field's only address.
fn first_mailbox(a: Option<&Address<'_>>, field: &str, problems: &mut Vec<String>) -> Option<Mailbox> {
    let all = mailboxes(a, field, problems);
    let count = a.map_or(0, |a| a.iter().count());
    if count > 1 {
        problems.push(format!("{field} names {count} addresses; none was taken as the sender"));
        return None;
    }
    all.into_iter().next()
}

/// The person behind a mail whose `From` names no address (`From: "Kari"`, `From: "…" <>`, common
/// from web forms and old mailers): the `Sender`, or else the one `Reply-To`. Only a mail with no
/// human address at all is taken for a robot's.
fn stand_in(sender: Option<&Mailbox>, reply_to: &[Mailbox], problems: &mut Vec<String>) -> Option<Mailbox> {
    let (field, found) = match (sender, reply_to) {
        (Some(s), _) => ("Sender", s.clone()),
        (None, [one]) => ("Reply-To", one.clone()),
        _ => return None,
    };
    problems.push(format!("From names no address; the sender is taken from {field}"));
    Some(found)
}

fn ids(v: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match v {
        HeaderValue::Text(t) => vec![clean_line(t)],
        HeaderValue::TextList(l) => l.iter().map(|s| clean_line(s)).collect(),
        _ => vec![],
    };
    list.into_iter().filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests;
