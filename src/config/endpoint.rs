//! `imaps://host:993`-style server addresses.

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (imaps, smtps).
    Tls,
    /// Plain connection upgraded with STARTTLS.
    StartTls,
    /// No TLS: allowed only to loopback, for local servers.
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
}

impl Endpoint {
    /// `schemes` is `[plain, tls]`, e.g. `["imap", "imaps"]`. Unencrypted connections are refused
    /// except to loopback, or where `allow_plain` says the network is trusted (a trial set-up).
    pub fn parse(url: &str, schemes: &[&str; 2], starttls: bool, allow_plain: bool) -> Result<Endpoint, String> {
        let (scheme, rest) =
            url.split_once("://").ok_or_else(|| format!("{url:?} should look like {}://host:port", schemes[1]))?;
        let tls = if scheme == schemes[1] {
            true
        } else if scheme == schemes[0] {
            false
        } else {
            return Err(format!("{url:?}: the scheme must be {} or {}", schemes[0], schemes[1]));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| format!("{url:?}: {p:?} is not a port number"))?),
            None => (rest, default_port(scheme)),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') || host.contains('@') {
            return Err(format!("{url:?}: no host (user names and passwords go in their own keys)"));
        }
        let security = match (tls, starttls) {
            (true, true) => {
                return Err(format!("{url:?}: {} is TLS already; starttls applies to {}://", schemes[1], schemes[0]));
            }
            (true, false) => Security::Tls,
            (false, true) => Security::StartTls,
            (false, false) if allow_plain || is_loopback(host) => Security::Plain,
            (false, false) => {
                return Err(format!(
                    "{url:?}: unencrypted {} is allowed only to loopback; use {}:// or set starttls = true",
                    schemes[0], schemes[1]
                ));
            }
        };
        Ok(Endpoint { host: host.to_string(), port, security })
    }
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "imap" => 143,
        "imaps" => 993,
        "smtp" => 25,
        _ => 465,
    }
}

pub fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_plain_text_off_loopback() {
        let e = Endpoint::parse("imaps://mail.gjovik.kommune.no", &["imap", "imaps"], false, false).expect("valid");
        assert_eq!((e.host.as_str(), e.port, e.security), ("mail.gjovik.kommune.no", 993, Security::Tls));
        let e = Endpoint::parse("imap://127.0.0.1:1143", &["imap", "imaps"], false, false).expect("valid");
        assert_eq!(e.security, Security::Plain);
        let e = Endpoint::parse("smtp://smtp.example.no:587", &["smtp", "smtps"], true, false).expect("valid");
        assert_eq!((e.port, e.security), (587, Security::StartTls));
        assert!(
            Endpoint::parse("imap://mail.example.no", &["imap", "imaps"], false, false)
                .unwrap_err()
                .contains("only to loopback")
        );
        assert_eq!(
            Endpoint::parse("imap://mail:3143", &["imap", "imaps"], false, true).map(|e| e.security),
            Ok(Security::Plain)
        );
        assert!(Endpoint::parse("http://x", &["imap", "imaps"], false, false).is_err());
        assert!(Endpoint::parse("imaps://user:pw@host", &["imap", "imaps"], false, false).is_err());
    }
}
