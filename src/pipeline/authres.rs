//! The sender-authentication verdict of a mail, from an `Authentication-Results` header (RFC 8601)
//! written by **our own** receiving server — identified by its authserv-id. Anyone can write such a
//! header into a mail; only ours is believed.

use serde::Serialize;

use crate::pipeline::parse::ParsedMail;
use crate::text::address;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthVerdict {
    /// The method that decided: `dmarc`, else `dkim` or `spf` (see [`verdict`]).
    pub method: String,
    /// `pass`, `fail`, `none`, …
    pub result: String,
    pub authserv_id: String,
}

impl AuthVerdict {
    /// The sender could not be verified as who they claim to be.
    pub fn failed(&self) -> bool {
        matches!(self.result.as_str(), "fail" | "permerror" | "softfail" | MISSING)
    }

    /// No result of our server at all, where one is required.
    pub fn missing(authserv_id: &str) -> AuthVerdict {
        AuthVerdict { method: "authentication-results".into(), result: MISSING.into(), authserv_id: authserv_id.into() }
    }

    pub fn describe(&self) -> String {
        format!("{}={} (by {})", self.method, self.result, self.authserv_id)
    }
}

const MISSING: &str = "missing";

/// A header our own server sets on mail between its own users (and removes from mail from outside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    name: String,
    value: String,
}

impl Marker {
    /// `Header-Name: value`.
    pub fn parse(s: &str) -> Option<Marker> {
        let (name, value) = s.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        let token = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        (token && !value.is_empty()).then(|| Marker { name: name.into(), value: value.into() })
    }

    /// Whether `mail` carries it (names compared without case, values as written but trimmed).
    pub fn on(&self, mail: &ParsedMail) -> bool {
        mail.headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(&self.name) && v.trim().eq_ignore_ascii_case(&self.value))
    }
}

/// What becomes of a mail without our server's result: believed (`None`), believed because it
/// carries the internal marker, or unverified.
pub fn required(mail: &ParsedMail, trusted_authserv_id: &str, marker: Option<&Marker>) -> Option<AuthVerdict> {
    match marker {
        Some(m) if m.on(mail) => None,
        _ => Some(AuthVerdict::missing(trusted_authserv_id)),
    }
}

/// One result of an `Authentication-Results` header: `dkim=pass header.d=gjovik.kommune.no`.
struct Result_ {
    method: String,
    result: String,
    /// `header.d`, `smtp.mailfrom`, … as written.
    props: Vec<(String, String)>,
}

impl Result_ {
    fn prop(&self, name: &str) -> Option<&str> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The verdict from the first `Authentication-Results` of `trusted_authserv_id`, if any. The
/// methods are weighed as DMARC does: a DMARC pass or fail decides; then a DKIM pass for the From
/// domain; then SPF — a pass only for the From domain, a fail whatever the domain. So `dmarc=none`
/// (the domain publishes no policy) never outweighs `spf=fail`.
pub fn verdict(mail: &ParsedMail, trusted_authserv_id: &str) -> Option<AuthVerdict> {
    if trusted_authserv_id.is_empty() {
        return None;
    }
    let from_domain = mail.from_address().map(|a| a.domain().to_string());
    mail.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results")).find_map(|(_, v)| {
        let v = crate::pipeline::parse::clean_line(v);
        let (id, rest) = v.split_once(';')?;
        let id = id.split_whitespace().next()?;
        if !id.eq_ignore_ascii_case(trusted_authserv_id) {
            return None;
        }
        let results: Vec<Result_> = rest.split(';').filter_map(result).collect();
        let found = |r: &Result_| AuthVerdict {
            method: r.method.clone(),
            result: r.result.clone(),
            authserv_id: id.to_string(),
        };
        let aligned = |domain: Option<&str>| {
            let domain = domain.map(|d| d.rsplit('@').next().unwrap_or(d).to_ascii_lowercase());
            match (domain.as_deref(), from_domain.as_deref()) {
                (Some(d), Some(f)) => address::is_within(f, d) || address::is_within(d, f),
                _ => false,
            }
        };
        let of = |method: &'static str| results.iter().filter(move |r| r.method == method);
        let decided = of("dmarc")
            .find(|r| matches!(r.result.as_str(), "pass" | "fail"))
            .or_else(|| of("dkim").find(|r| r.result == "pass" && aligned(r.prop("header.d"))))
            .or_else(|| {
                of("spf").find(|r| match r.result.as_str() {
                    "pass" => aligned(r.prop("smtp.mailfrom")),
                    "fail" | "softfail" | "permerror" => true,
                    _ => false,
                })
            });
        // Nothing decisive: as DMARC would say, the sender is neither verified nor refuted.
        Some(decided.map_or_else(
            || AuthVerdict { method: "dmarc".into(), result: "none".into(), authserv_id: id.to_string() },
            found,
        ))
    })
}

fn result(text: &str) -> Option<Result_> {
    let mut words = text.split_whitespace();
    let (method, result) = words.next()?.split_once('=')?;
    let props = words.filter_map(|w| w.split_once('=')).map(|(n, v)| (n.to_ascii_lowercase(), v.to_string())).collect();
    Some(Result_ { method: method.to_ascii_lowercase(), result: result.to_ascii_lowercase(), props })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::parse::{ParseLimits, parse};

    fn mail(headers: &str) -> ParsedMail {
        parse(
            format!("{headers}From: a@gjovik.kommune.no\r\nSubject: x\r\n\r\nx\r\n").as_bytes(),
            &ParseLimits::default(),
        )
        .expect("parses")
    }

    #[test]
    fn the_internal_marker_vouches_only_when_it_is_there_as_written() {
        let marker = Marker::parse(" X-MS-Exchange-Organization-AuthAs : Internal ").expect("a marker");
        assert!(Marker::parse("no colon").is_none() && Marker::parse("Bad Name: x").is_none());
        assert!(Marker::parse("X-Header:").is_none(), "a value is needed");
        let internal = mail("x-ms-exchange-organization-authas: internal\r\n");
        assert_eq!(required(&internal, "mx.gjovik.kommune.no", Some(&marker)), None);
        let anonymous = mail("X-MS-Exchange-Organization-AuthAs: Anonymous\r\n");
        let v = required(&anonymous, "mx.gjovik.kommune.no", Some(&marker)).expect("unverified");
        assert!(v.failed() && v.describe().contains("missing"), "{v:?}");
        assert!(required(&internal, "mx.gjovik.kommune.no", None).is_some_and(|v| v.failed()), "no marker configured");
    }

    #[test]
    fn only_our_servers_verdict_counts() {
        let m = mail(
            "Authentication-Results: evil.example; dmarc=pass\r\nAuthentication-Results: mx.gjovik.kommune.no; spf=pass smtp.mailfrom=x; dmarc=fail (p=reject) header.from=gjovik.kommune.no\r\n",
        );
        let v = verdict(&m, "mx.gjovik.kommune.no").expect("our verdict");
        assert_eq!((v.method.as_str(), v.result.as_str()), ("dmarc", "fail"));
        assert!(v.failed());
        let forged_only = mail("Authentication-Results: evil.example; dmarc=pass\r\n");
        assert_eq!(verdict(&forged_only, "mx.gjovik.kommune.no"), None, "a foreign header is ignored");
        assert_eq!(verdict(&m, ""), None, "no trusted server configured: no verdict");
    }

    fn decided(results: &str) -> (String, String) {
        let m = mail(&format!("Authentication-Results: mx.gjovik.kommune.no; {results}\r\n"));
        let v = verdict(&m, "mx.gjovik.kommune.no").expect("a verdict");
        (v.method, v.result)
    }

    #[test]
    fn dmarc_decides_then_aligned_dkim_then_spf() {
        let pair = |m: &str, r: &str| (m.to_string(), r.to_string());
        // No DMARC policy published: an SPF failure is not outweighed.
        assert_eq!(
            decided("dmarc=none header.from=gjovik.kommune.no; spf=fail smtp.mailfrom=x@gjovik.kommune.no"),
            pair("spf", "fail")
        );
        assert_eq!(decided("spf=fail smtp.mailfrom=a@evil.example; dmarc=none"), pair("spf", "fail"));
        assert_eq!(
            decided("dkim=pass header.d=gjovik.kommune.no; spf=fail smtp.mailfrom=a@evil.example; dmarc=pass"),
            pair("dmarc", "pass")
        );
        assert_eq!(decided("dkim=pass header.d=gjovik.kommune.no; dmarc=fail"), pair("dmarc", "fail"));
        // A DKIM pass counts only for the From domain.
        assert_eq!(
            decided("dkim=pass header.d=evil.example; spf=softfail smtp.mailfrom=a@evil.example"),
            pair("spf", "softfail")
        );
        assert_eq!(
            decided("dkim=pass header.d=gjovik.kommune.no; spf=fail smtp.mailfrom=a@evil.example"),
            pair("dkim", "pass")
        );
        // An SPF pass for another domain says nothing about the From domain.
        assert_eq!(decided("spf=pass smtp.mailfrom=a@evil.example"), pair("dmarc", "none"));
        assert_eq!(decided("spf=pass smtp.mailfrom=kari@gjovik.kommune.no"), pair("spf", "pass"));
        assert!(decided("spf=fail smtp.mailfrom=a@evil.example").1 == "fail");
    }
}
