//! Builds the RFC 5322 form of an outbox row with lettre: the row's fixed Message-ID and creation
//! date, so every retry sends the same mail; threading headers to the report; RFC 3834 markers; and
//! for routing mail the original report and its files as attachments.

use anyhow::{Context as _, Result};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::store::{FileRow, OutboxRow};
use crate::text::address::EmailAddress;

pub struct Composer {
    pub from: Mailbox,
}

/// Everything a routing mail carries besides its text.
#[derive(Default)]
pub struct Enclosures {
    pub report: Option<Vec<u8>>,
    pub files: Vec<FileRow>,
}

impl Composer {
    pub fn new(mailbox: &str, display_name: &str) -> Result<Composer> {
        let address: Address = mailbox.parse().with_context(|| format!("{mailbox:?} is not a valid sender address"))?;
        Ok(Composer { from: Mailbox::new(Some(display_name.to_string()), address) })
    }

    pub fn compose(&self, row: &OutboxRow, enclosures: Enclosures) -> Result<Message> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .reply_to(self.from.clone())
            .subject(&row.subject)
            .message_id(Some(format!("<{}>", row.message_id)))
            .date(row.created_at.into());
        for a in &row.to {
            b = b.to(Mailbox::new(None, lettre_address(a)?));
        }
        for a in &row.cc {
            b = b.cc(Mailbox::new(None, lettre_address(a)?));
        }
        if let Some(parent) = row.in_reply_to.as_deref().filter(|p| valid_id(p)) {
            b = b.in_reply_to(format!("<{parent}>")).references(format!("<{parent}>"));
        }
        // RFC 3834: replies are auto-replied, routed copies auto-generated; both must never be answered
        // automatically, and Exchange is asked not to send its own auto-replies back.
        let auto = if row.kind.is_auto_reply() { "auto-replied" } else { "auto-generated" };
        b = b
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), auto.into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Routedesk-Kind"), row.kind.as_str().into()));

        let text = SinglePart::plain(row.body.clone());
        let message = if enclosures.report.is_none() && enclosures.files.is_empty() {
            b.singlepart(text)
        } else {
            let mut mixed = MultiPart::mixed().singlepart(text);
            for (i, f) in enclosures.files.into_iter().enumerate() {
                let name = f.filename.clone().unwrap_or_else(|| format!("vedlegg-{}", i + 1));
                let ct = ContentType::parse(&f.content_type).unwrap_or(ContentType::parse("application/octet-stream")?);
                mixed = mixed.singlepart(Attachment::new(name).body(f.data, ct));
            }
            if let Some(report) = enclosures.report {
                let ct = ContentType::parse("message/rfc822")?;
                mixed = mixed.singlepart(Attachment::new("opprinnelig-feilmelding.eml".into()).body(report, ct));
            }
            b.multipart(mixed)
        };
        message.context("building the mail")
    }
}

/// The same address in lettre's type. Everything [`EmailAddress`] accepts, lettre accepts (a
/// unit test holds the two to that), so this fails only on a broken invariant.
pub fn lettre_address(a: &EmailAddress) -> Result<Address> {
    Address::new(a.local(), a.domain()).with_context(|| format!("{a} is not an address lettre can send to"))
}

/// A Message-ID we may echo into a header: no brackets, spaces or control characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() < 500 && id.chars().all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lettre_sends_to_exactly_what_the_validator_accepts() {
        for ok in ["a@b.no", "o'brien+tag@x-y.example.com", "!#$%&'*+-/=?^_`{|}~@x.no", "a.b.c@1.2.3.no"] {
            let ours = EmailAddress::parse(ok).expect(ok);
            let theirs: Address = ok.parse().expect("lettre accepts it too");
            assert_eq!(lettre_address(&ours).expect("converts").to_string(), theirs.to_string());
        }
    }
}
