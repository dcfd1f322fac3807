//! E-mail address checks that need no network: syntax, domain, local-part patterns.

/// Whether `addr` is a plain `local@domain` address routedesk can send to.
/// Deliberately strict: no display names, comments, quotes or whitespace.
pub fn is_valid(addr: &str) -> bool {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && is_valid_domain(domain)
}

/// Whether `domain` is a dotted host name such as `gjovik.kommune.no`.
pub fn is_valid_domain(domain: &str) -> bool {
    domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
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
        ] {
            assert!(!is_valid(bad), "{bad:?} should be invalid");
        }
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
