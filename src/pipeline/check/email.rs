//! The reporter's own e-mail address: the sender's, unless the sender is a shared or no-reply
//! mailbox, in which case an address the reporter wrote in the body counts.

use crate::pipeline::parse::ParsedMail;
use crate::policy::Policy;
use crate::text::address;

pub fn find(mail: &ParsedMail, policy: &Policy) -> Option<String> {
    let sender = mail.from_address().filter(|a| address::is_valid(a));
    if let Some(s) = &sender
        && is_personal(s, policy)
    {
        return Some(s.clone());
    }
    let recipients: Vec<String> = mail.to.iter().chain(&mail.cc).map(|m| m.address.to_lowercase()).collect();
    addresses_in(&mail.own_text).into_iter().find(|a| {
        is_personal(a, policy) && *a != policy.helpdesk.email && !recipients.contains(a) && Some(a) != sender.as_ref()
    })
}

/// Whether an address belongs to a person rather than a shared or no-reply mailbox.
pub fn is_personal(addr: &str, policy: &Policy) -> bool {
    let local = address::local_part(addr);
    !policy.senders.shared_mailboxes.iter().chain(&policy.senders.no_reply).any(|p| address::local_matches(&local, p))
}

/// Whether the sender can never be answered (noreply, mailer-daemon, …).
pub fn is_no_reply(addr: &str, policy: &Policy) -> bool {
    let local = address::local_part(addr);
    policy.senders.no_reply.iter().any(|p| address::local_matches(&local, p))
}

/// Plain addresses written in text, lower-cased, in order.
pub fn addresses_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "<>()[]{}\"',;:".contains(c))
        .filter(|w| w.contains('@'))
        .map(|w| w.trim_start_matches("mailto").trim_matches(|c: char| c == '.' || c == ':').to_lowercase())
        .filter(|w| address::is_valid(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::addresses_in;

    #[test]
    fn finds_addresses_in_text() {
        assert_eq!(
            addresses_in("E-post: kari.nordmann@vestre-toten.kommune.no. Eller <mailto:ola@x.no>; ikke@ her"),
            ["kari.nordmann@vestre-toten.kommune.no", "ola@x.no"]
        );
    }
}
