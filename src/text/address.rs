//! E-mail addresses: the one validator of the program, and the [`EmailAddress`] type that only a
//! valid address can become. Everything that reads an address out of mail or policy, and everything
//! that sends to one, goes through it, so what the pipeline accepts and what the outbox sends to can
//! never disagree.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Exactly one plain `local@domain` address, lower-cased. Deliberately strict: ASCII only (an
/// internationalised domain is written in its `xn--` form), no display names, comments, quotes,
/// whitespace, lists or second `@` — what cannot be parsed into one is no address at all.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

/// Why a text is not an [`EmailAddress`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a single valid e-mail address")]
pub struct InvalidAddress(pub String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<EmailAddress, InvalidAddress> {
        if is_valid(text) { Ok(EmailAddress(text.to_ascii_lowercase())) } else { Err(InvalidAddress(text.into())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local(&self) -> &str {
        self.0.split_once('@').map_or("", |(l, _)| l)
    }

    /// The domain, without a trailing dot.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d).trim_end_matches('.')
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = InvalidAddress;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(s)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidAddress;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        EmailAddress::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(a: EmailAddress) -> String {
        a.0
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for EmailAddress {
    fn eq(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl PartialEq<&str> for EmailAddress {
    fn eq(&self, other: &&str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

/// The addresses, joined with `sep`, for people to read (never to be split again).
pub fn join(list: &[EmailAddress], sep: &str) -> String {
    list.iter().map(EmailAddress::as_str).collect::<Vec<_>>().join(sep)
}

/// Whether `addr` is exactly one plain `local@domain` address routedesk may read or send to.
pub fn is_valid(addr: &str) -> bool {
    let Some((local, domain)) = addr.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && addr.len() <= 254
        && local.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && is_valid_domain(domain)
}

/// Whether `domain` is a dotted ASCII host name such as `gjovik.kommune.no`.
pub fn is_valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// The lower-cased domain of an address, if it has one.
pub fn domain_of(addr: &str) -> Option<String> {
    addr.rsplit_once('@').map(|(_, d)| d.trim_end_matches('.').to_lowercase())
}

/// The lower-cased local part of an address.
pub fn local_part(addr: &str) -> String {
    addr.rsplit_once('@').map_or(addr, |(l, _)| l).to_lowercase()
}

/// Whether `domain` is `parent` or one of its subdomains (`skole.gjovik.kommune.no` is under
/// `gjovik.kommune.no`; `xgjovik.kommune.no` is not).
pub fn is_within(domain: &str, parent: &str) -> bool {
    domain == parent || domain.strip_suffix(parent).is_some_and(|rest| rest.ends_with('.'))
}

/// A local-part pattern from the policy: exact, or a prefix when it ends in `*`.
pub fn local_matches(local: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => local.starts_with(prefix),
        None => local == pattern,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses_and_rejects_junk() {
        assert!(is_valid("kari.rohne@sondre-land.kommune.no"));
        assert!(is_valid("pureservice@gjovik.kommune.no"));
        for bad in [
            "",
            "kari",
            "@gjovik.kommune.no",
            "kari@",
            "kari@localhost",
            "a b@x.no",
            "a@x..no",
            "a@-x.no",
            "a\r\nBcc: x@y.no",
            "a@x.example,b@y.example,kari@gjovik.kommune.no",
            "a@x.example, kari@gjovik.kommune.no",
            "kari@gjovik.kommune.no,a@x.example",
            "a@b@gjovik.kommune.no",
            "\"a,b\"@gjovik.kommune.no",
            "kari@gjovik.kommune.no>",
            "<kari@gjovik.kommune.no>",
            "kari@gjøvik.kommune.no",
            "kåri@gjovik.kommune.no",
        ] {
            assert!(!is_valid(bad), "{bad:?} should be invalid");
            assert!(EmailAddress::parse(bad).is_err());
        }
    }

    #[test]
    fn the_address_type_is_lower_cased() {
        let a = EmailAddress::parse("Kari.Rohne@Sondre-Land.Kommune.NO").expect("valid");
        assert_eq!(a.as_str(), "kari.rohne@sondre-land.kommune.no");
        assert_eq!((a.local(), a.domain()), ("kari.rohne", "sondre-land.kommune.no"));
        assert_eq!(serde_json::to_string(&a).expect("json"), "\"kari.rohne@sondre-land.kommune.no\"");
        assert!(serde_json::from_str::<EmailAddress>("\"a@x.no,b@y.no\"").is_err());
    }

    #[test]
    fn subdomains_are_within_but_lookalikes_are_not() {
        assert!(is_within("skole.gjovik.kommune.no", "gjovik.kommune.no"));
        assert!(is_within("gjovik.kommune.no", "gjovik.kommune.no"));
        assert!(!is_within("xgjovik.kommune.no", "gjovik.kommune.no"));
        assert!(!is_within("gjovik.kommune.no.evil.com", "gjovik.kommune.no"));
    }

    #[test]
    fn local_patterns() {
        assert!(local_matches("noreply-visma", "noreply*"));
        assert!(local_matches("postmottak", "postmottak"));
        assert!(!local_matches("postmottaket", "postmottak"));
    }
}
