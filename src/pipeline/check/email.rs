//! The reporter's own e-mail address: the sender's, unless the sender is a shared or no-reply
//! mailbox, in which case an address the reporter wrote in the body counts — only one in the
//! sender's own municipality, since that address becomes the ticket's reporter and gets its replies.

use crate::pipeline::parse::ParsedMail;
use crate::policy::Policy;
use crate::text::address::{self, EmailAddress};

pub fn find(mail: &ParsedMail, policy: &Policy) -> Option<EmailAddress> {
    let sender = mail.from_address();
    if let Some(s) = &sender
        && is_personal(s, policy)
    {
        return Some(s.clone());
    }
    let municipality = sender.as_ref().and_then(|s| policy.municipality_of(s))?;
    let recipients: Vec<&EmailAddress> = mail.to.iter().chain(&mail.cc).map(|m| &m.address).collect();
    addresses_in(&mail.own_text).into_iter().find(|a| {
        is_personal(a, policy)
            && *a != policy.helpdesk.email
            && !recipients.contains(&a)
            && Some(a) != sender.as_ref()
            && municipality.domains.iter().any(|d| address::is_within(a.domain(), d))
    })
}

/// Whether an address belongs to a person rather than a shared or no-reply mailbox.
pub fn is_personal(addr: &EmailAddress, policy: &Policy) -> bool {
    let local = addr.local();
    !policy.senders.shared_mailboxes.iter().chain(&policy.senders.no_reply).any(|p| address::local_matches(local, p))
}

/// Whether the sender can never be answered (noreply, mailer-daemon, …).
pub fn is_no_reply(addr: &EmailAddress, policy: &Policy) -> bool {
    policy.senders.no_reply.iter().any(|p| address::local_matches(addr.local(), p))
}

/// Valid addresses written in text, in order.
pub fn addresses_in(text: &str) -> Vec<EmailAddress> {
    text.split(|c: char| c.is_whitespace() || "<>()[]{}\"',;:".contains(c))
        .filter(|w| w.contains('@'))
        .map(|w| w.trim_start_matches("mailto").trim_matches(|c: char| c == '.' || c == ':'))
        .filter_map(|w| EmailAddress::parse(w).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::addresses_in;

    #[test]
    fn finds_addresses_in_text() {
        assert_eq!(
            addresses_in("E-post: kari.nordmann@vestre-toten.kommune.no. Eller <mailto:ola@x.no>; ikke@ her")
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>(),
            ["kari.nordmann@vestre-toten.kommune.no", "ola@x.no"]
        );
    }
}
