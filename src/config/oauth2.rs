//! `[oauth2]`: how routedesk gets access tokens for the helpdesk mailbox, where the mail server
//! takes no password (Exchange Online for IMAP, and soon for SMTP; Google Workspace).

use std::path::PathBuf;

use serde::Deserialize;

use super::Secret;

/// How routedesk signs in to the IMAP or SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// `LOGIN` / `AUTH PLAIN` with `user` and `password`.
    #[default]
    Password,
    /// SASL XOAUTH2 or OAUTHBEARER with an access token from `[oauth2]`.
    Oauth2,
}

/// The SASL mechanism that carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// Microsoft's and Google's (the only one Exchange Online takes).
    #[default]
    Xoauth2,
    /// The standard one (RFC 7628).
    Oauthbearer,
}

impl Mechanism {
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Xoauth2 => "XOAUTH2",
            Mechanism::Oauthbearer => "OAUTHBEARER",
        }
    }
}

/// How the access token is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// App-only access (Exchange Online service mailboxes): client id and secret, no user.
    #[default]
    ClientCredentials,
    /// A user's delegated access (Google accounts): a refresh token stored by `routedesk oauth2 login`.
    RefreshToken,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Config {
    /// The Entra ID tenant (`contoso.onmicrosoft.com` or its id): fills in Microsoft's token URL.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The token endpoint; from `tenant` when not set.
    #[serde(default)]
    pub token_url: Option<String>,
    /// The authorization endpoint, for `routedesk oauth2 login` (the refresh-token grant).
    #[serde(default)]
    pub auth_url: Option<String>,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// A file holding the secret (a container secret), instead of `client_secret`.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default)]
    pub grant: Grant,
    #[serde(default)]
    pub mechanism: Mechanism,
    /// The key (32 bytes, base64) the stored refresh token is encrypted with.
    #[serde(default)]
    pub token_key: Option<Secret>,
}

fn default_scope() -> String {
    "https://outlook.office365.com/.default".into()
}

impl OAuth2Config {
    /// The token endpoint: as set, or Microsoft's for the tenant.
    pub fn token_endpoint(&self) -> Option<String> {
        self.token_url.clone().or_else(|| {
            self.tenant.as_ref().map(|t| format!("https://login.microsoftonline.com/{t}/oauth2/v2.0/token"))
        })
    }

    /// The client secret, from the configuration or its file.
    pub fn secret(&self) -> Result<Option<Secret>, String> {
        match (&self.client_secret, &self.client_secret_file) {
            (Some(s), _) => Ok(Some(s.clone())),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map(|s| Some(Secret::new(s.trim().to_string())))
                .map_err(|e| format!("oauth2.client_secret_file: cannot read {}: {e}", path.display())),
            (None, None) => Ok(None),
        }
    }

    /// Everything wrong with the section, for `Config::validate`.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.client_id.trim().is_empty() {
            p.push("oauth2.client_id is empty".into());
        }
        match self.token_endpoint() {
            None => p.push("oauth2: set token_url, or tenant for Microsoft 365".into()),
            Some(url) if !secure_url(&url) => {
                p.push(format!("oauth2.token_url {url:?} must be https (plain http only to loopback)"))
            }
            Some(_) => {}
        }
        if let Some(url) = self.auth_url.as_ref().filter(|u| !secure_url(u)) {
            p.push(format!("oauth2.auth_url {url:?} must be https (plain http only to loopback)"));
        }
        if self.client_secret.is_some() && self.client_secret_file.is_some() {
            p.push("oauth2: set client_secret or client_secret_file, not both".into());
        }
        match self.secret() {
            Err(e) => p.push(e),
            Ok(None) if self.grant == Grant::ClientCredentials => {
                p.push("oauth2: the client-credentials grant needs client_secret (or client_secret_file)".into())
            }
            Ok(_) => {}
        }
        if self.scope.trim().is_empty() {
            p.push("oauth2.scope is empty".into());
        }
        if self.grant == Grant::RefreshToken && self.token_key.is_none() {
            p.push(
                "oauth2: the refresh-token grant needs token_key (32 random bytes, base64) to store the token".into(),
            );
        }
        p
    }
}

/// https, or http to a loopback address (a local test provider).
fn secure_url(url: &str) -> bool {
    url.starts_with("https://")
        || ["http://127.0.0.1", "http://localhost", "http://[::1]"].iter().any(|l| {
            url.strip_prefix(l).is_some_and(|rest| rest.is_empty() || rest.starts_with(':') || rest.starts_with('/'))
        })
}
