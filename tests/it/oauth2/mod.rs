//! The helpdesk mailbox with OAuth2, as Exchange Online wants it: routedesk reads (IMAP) and sends
//! (SMTP submission) with tokens from a real OpenID provider (npm `oidc-provider`, started by
//! `scripts/oidc`), which Dovecot checks by introspection. Each test has a client of its own at the
//! provider (its control API), mapped to the test's own mailbox, so disabling one touches no other.

mod cli;
mod login;
mod mailbox;

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support::oidc;

/// The provider's control API and token endpoint.
pub struct Provider {
    pub token_url: String,
    control: String,
}

pub fn provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        oidc::ensure();
        Provider { token_url: oidc::var("OIDC_TOKEN_URL"), control: oidc::var("OIDC_CONTROL_URL") }
    })
}

/// A client-credentials client of a test's own.
pub struct MailClient {
    pub id: String,
    pub secret: String,
}

impl Provider {
    async fn call(&self, path: &str, body: Value) -> Value {
        let response = routedesk::http::client()
            .expect("an HTTP client")
            .post(format!("{}{path}", self.control))
            .json(&body)
            .send()
            .await
            .expect("the control API answers");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// A client whose tokens open `mailbox`, each valid `ttl` seconds (0: the provider's default).
    pub async fn client(&self, mailbox: &str, ttl: u64) -> MailClient {
        let body =
            if ttl > 0 { json!({ "mailbox": mailbox, "token_ttl": ttl }) } else { json!({ "mailbox": mailbox }) };
        let c = self.call("/clients", body).await;
        let field = |k: &str| c[k].as_str().unwrap_or_else(|| panic!("the new client has no {k}: {c}")).to_string();
        MailClient { id: field("client_id"), secret: field("client_secret") }
    }

    pub async fn disable(&self, c: &MailClient) {
        self.call(&format!("/clients/{}/disable", c.id), json!({})).await;
    }

    pub async fn enable(&self, c: &MailClient) {
        self.call(&format!("/clients/{}/enable", c.id), json!({})).await;
    }

    /// The client's tokens issued so far stop working; new ones work.
    pub async fn revoke_tokens(&self, c: &MailClient) {
        self.call(&format!("/clients/{}/revoke", c.id), json!({})).await;
    }
}
