//! The sender-authentication verdict of a mail, from an `Authentication-Results` header (RFC 8601)
//! written by **our own** receiving server — identified by its authserv-id. Anyone can write such a
//! header into a mail; only ours is believed.

use serde::Serialize;

use crate::pipeline::parse::ParsedMail;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthVerdict {
    /// `dmarc`, or `dkim`/`spf` when the server reported no DMARC result.
    pub method: String,
    /// `pass`, `fail`, `none`, …
    pub result: String,
    pub authserv_id: String,
}

impl AuthVerdict {
    /// The sender could not be verified as who they claim to be.
    pub fn failed(&self) -> bool {
        matches!(self.result.as_str(), "fail" | "permerror" | "softfail")
    }

    pub fn describe(&self) -> String {
        format!("{}={} (by {})", self.method, self.result, self.authserv_id)
    }
}

/// The verdict from the first `Authentication-Results` of `trusted_authserv_id`, if any.
pub fn verdict(mail: &ParsedMail, trusted_authserv_id: &str) -> Option<AuthVerdict> {
    if trusted_authserv_id.is_empty() {
        return None;
    }
    mail.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results")).find_map(|(_, v)| {
        let v = crate::pipeline::parse::clean_line(v);
        let (id, rest) = v.split_once(';')?;
        let id = id.split_whitespace().next()?;
        if !id.eq_ignore_ascii_case(trusted_authserv_id) {
            return None;
        }
        let results: Vec<(String, String)> = rest
            .split(';')
            .filter_map(|r| {
                let (method, result) = r.trim().split_once('=')?;
                Some((method.trim().to_ascii_lowercase(), result.split_whitespace().next()?.to_ascii_lowercase()))
            })
            .collect();
        ["dmarc", "dkim", "spf"].iter().find_map(|m| {
            results.iter().find(|(method, _)| method == m).map(|(method, result)| AuthVerdict {
                method: method.clone(),
                result: result.clone(),
                authserv_id: id.to_string(),
            })
        })
    })
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
}
