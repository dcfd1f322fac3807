//! Builds the RFC 5322 form of an outbox row with lettre: the row's fixed Message-ID and creation
//! date, so every retry sends the same mail; threading headers to the report; RFC 3834 markers; and
//! for routing mail the original report and its files as attachments.

use anyhow::{Context as _, Result};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::store::{FileData, OutboxRow};

pub struct Composer {
    pub from: Mailbox,
}

/// Everything a routing mail carries besides its text.
#[derive(Default)]
pub struct Enclosures {
    pub report: Option<Vec<u8>>,
    pub files: Vec<FileData>,
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
        for a in split(&row.to_addrs) {
            b = b.to(parse_mailbox(a)?);
        }
        for a in split(&row.cc_addrs) {
            b = b.cc(parse_mailbox(a)?);
        }
        if let Some(parent) = row.in_reply_to.as_deref().filter(|p| valid_id(p)) {
            b = b.in_reply_to(format!("<{parent}>")).references(format!("<{parent}>"));
        }
        // RFC 3834: replies are auto-replied, routed copies auto-generated; both must never be answered
        // automatically, and Exchange is asked not to send its own auto-replies back.
        let auto = if row.kind == "routing" { "auto-generated" } else { "auto-replied" };
        b = b
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), auto.into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()))
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Routedesk-Kind"), row.kind.clone()));

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

pub fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|a| !a.is_empty())
}

fn parse_mailbox(addr: &str) -> Result<Mailbox> {
    let a: Address = addr.parse().with_context(|| format!("{addr:?} is not a valid recipient address"))?;
    Ok(Mailbox::new(None, a))
}

/// A Message-ID we may echo into a header: no brackets, spaces or control characters.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() < 500 && id.chars().all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}
