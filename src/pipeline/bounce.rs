//! What a bounce says: the mail it returns, by the Message-IDs it quotes (of the returned mail's
//! header, in a DSN's `message/rfc822` or `text/rfc822-headers` part, or quoted in a plain-text
//! bounce), and the recipients that failed — a DSN's `Final-Recipient` with `Action: failed`, or
//! `X-Failed-Recipients`. Read from the raw mail, so any mailer's layout is looked through.

use serde::Serialize;

use crate::text::address::EmailAddress;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Bounce {
    /// Every Message-ID the bounce quotes (its own included; the caller knows which are ours).
    pub message_ids: Vec<String>,
    /// The recipients the bounce says failed for good.
    pub failed: Vec<EmailAddress>,
    /// The first `Diagnostic-Code` (or `Status`), for people.
    pub diagnostic: Option<String>,
}

/// A header-like line's value, if the line is `name: value` (any case).
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let (n, v) = line.split_once(':')?;
    n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
}

/// `rfc822; ola@example.no` or a bare address.
fn address_of(value: &str) -> Option<EmailAddress> {
    let addr = value.rsplit(';').next()?.trim().trim_matches(['<', '>']);
    EmailAddress::parse(addr).ok()
}

pub fn read(raw: &[u8]) -> Bounce {
    let text = String::from_utf8_lossy(raw);
    let mut out = Bounce::default();
    let push_failed = |a: EmailAddress, out: &mut Bounce| {
        if !out.failed.contains(&a) {
            out.failed.push(a);
        }
    };
    // A DSN's per-recipient fields come in blocks separated by blank lines.
    let mut recipient: Option<EmailAddress> = None;
    let mut failed = false;
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if let (Some(a), true) = (recipient.take(), failed) {
                push_failed(a, &mut out);
            }
            failed = false;
            continue;
        }
        if let Some(v) = field(line, "Message-ID") {
            let id = v.trim_matches(['<', '>']).to_string();
            if !id.is_empty() && !out.message_ids.contains(&id) {
                out.message_ids.push(id);
            }
        } else if let Some(v) = field(line, "X-Failed-Recipients") {
            for a in v.split(',').filter_map(address_of) {
                push_failed(a, &mut out);
            }
        } else if let Some(v) = field(line, "Final-Recipient").or_else(|| field(line, "Original-Recipient")) {
            if recipient.is_none() {
                recipient = address_of(v);
            }
        } else if let Some(v) = field(line, "Action") {
            failed = v.eq_ignore_ascii_case("failed");
        } else if let Some(v) = field(line, "Diagnostic-Code").or_else(|| field(line, "Status"))
            // The diagnostic says more than the status code: it wins over an earlier Status.
            && (out.diagnostic.is_none() || field(line, "Diagnostic-Code").is_some())
        {
            out.diagnostic = Some(v.chars().take(300).collect());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn a_postfix_dsn_names_the_returned_mail_and_the_failed_recipient() {
        let raw = b"From: MAILER-DAEMON@mx.example.no (Mail Delivery System)\r\n\
            Message-ID: <20261205.ABC@mx.example.no>\r\n\
            Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n\
            --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.no\r\n\r\n\
            Final-Recipient: rfc822; ola.nordmann@gjovik.kommune.no\r\nOriginal-Recipient: rfc822;ola.nordmann@gjovik.kommune.no\r\n\
            Action: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <ola.nordmann@gjovik.kommune.no>: User unknown\r\n\r\n\
            Final-Recipient: rfc822; kari@gjovik.kommune.no\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n\
            --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: helpdesk@gjovik.kommune.no\r\n\
            Message-ID: <rd.abc.0123@gjovik.kommune.no>\r\nSubject: [RD-2026-000001] Mottatt\r\n\r\n--b--\r\n";
        let b = read(raw);
        assert_eq!(b.message_ids, ["20261205.ABC@mx.example.no", "rd.abc.0123@gjovik.kommune.no"]);
        assert_eq!(b.failed.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["ola.nordmann@gjovik.kommune.no"]);
        assert!(b.diagnostic.as_deref().is_some_and(|d| d.contains("User unknown")), "{:?}", b.diagnostic);
    }

    #[test]
    fn a_plain_bounce_with_x_failed_recipients_and_quoted_headers() {
        let raw = b"From: Mail Delivery System <Mailer-Daemon@mx.example.no>\r\n\
            X-Failed-Recipients: per@example.no, not an address\r\nSubject: Mail delivery failed\r\n\r\n\
            This message was created automatically by mail delivery software.\r\n\r\n\
            ------ This is a copy of the message, including all the headers. ------\r\n\
            Message-Id: <rd.x.y@routedesk.test>\r\n";
        let b = read(raw);
        assert_eq!(b.failed.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["per@example.no"]);
        assert_eq!(b.message_ids, ["rd.x.y@routedesk.test"]);
        assert_eq!(read(b"Subject: hei\r\n\r\nbare tekst\r\n"), super::Bounce::default(), "nothing in a mail");
    }
}
