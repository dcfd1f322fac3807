//! The SASL messages that carry an OAuth2 token to IMAP and SMTP servers.

use crate::config::Mechanism;

/// The client's first (and only) message: XOAUTH2 (Microsoft's and Google's) or OAUTHBEARER
/// (RFC 7628).
pub fn initial_response(mechanism: Mechanism, user: &str, token: &str) -> String {
    match mechanism {
        Mechanism::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        Mechanism::Oauthbearer => format!("n,a={},\x01auth=Bearer {token}\x01\x01", gs2_escape(user)),
    }
}

/// RFC 5801: `,` and `=` in the authorisation identity are escaped.
fn gs2_escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// An async-imap authenticator: the token on the first challenge; on a second one (the server's
/// JSON error), the empty answer SASL requires before the server says NO.
pub struct Bearer {
    first: Option<String>,
}

impl Bearer {
    pub fn new(mechanism: Mechanism, user: &str, token: &str) -> Bearer {
        Bearer { first: Some(initial_response(mechanism, user, token)) }
    }
}

impl async_imap::Authenticator for Bearer {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.first.take().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_as_the_specifications_write_them() {
        assert_eq!(
            initial_response(
                Mechanism::Xoauth2,
                "someuser@example.com",
                "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
            ),
            "user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"
        );
        assert_eq!(
            initial_response(Mechanism::Oauthbearer, "user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg=="),
            "n,a=user@example.com,\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert_eq!(gs2_escape("a,b=c"), "a=2Cb=3Dc");
        let mut b = Bearer::new(Mechanism::Xoauth2, "u", "t");
        use async_imap::Authenticator as _;
        assert!(b.process(b"").starts_with("user=u"));
        assert_eq!(b.process(b"{\"status\":\"401\"}"), "", "the error challenge gets an empty answer");
    }
}
