//! OAuth2 access tokens for the helpdesk mailbox, shared by IMAP and SMTP: the client-credentials
//! grant (app-only access, what Exchange Online gives service mailboxes) or a stored refresh
//! token. A token is kept until shortly before it expires and renewed ahead of time; one the
//! server refused is dropped and fetched anew once; after a failure the endpoint is asked again
//! only after a growing pause — never in a tight loop. Secrets never reach a log.

pub mod login;
mod sasl;

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, Scope, TokenResponse as _, TokenUrl};
use tokio::sync::Mutex;

use crate::config::{Grant, OAuth2Config, Secret};
use crate::http::OAuthHttp;
pub use sasl::{Bearer, initial_response};
pub use seal::key as seal_key;

/// Renew a token this long before it expires.
const AHEAD: Duration = Duration::from_secs(300);
/// The longest pause after failures: as long as the intake's own longest wait between attempts.
const MAX_PAUSE: Duration = Duration::from_secs(60);

type Client = BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub struct TokenSource {
    client: Client,
    http: OAuthHttp,
    scope: String,
    grant: Grant,
    /// For the refresh-token grant: where the stored token is read.
    refresh: Option<RefreshStore>,
    state: Mutex<State>,
}

/// Where a refresh token is kept (encrypted) between runs.
pub struct RefreshStore {
    pub store: crate::store::Store,
    pub key: Vec<u8>,
}

#[derive(Default)]
struct State {
    token: Option<Held>,
    failures: u32,
    not_before: Option<Instant>,
    last_error: String,
}

struct Held {
    secret: Secret,
    /// When it should be renewed (shortly before it expires).
    renew_at: Instant,
    expires_in: Option<Duration>,
    scopes: Vec<String>,
}

/// What the endpoint gave, for `check-config` (never the token itself).
#[derive(Debug, Clone)]
pub struct Issued {
    pub expires_in: Option<Duration>,
    pub scopes: Vec<String>,
}

impl TokenSource {
    pub fn new(cfg: &OAuth2Config, refresh: Option<RefreshStore>) -> Result<TokenSource> {
        let url = cfg.token_endpoint().context("oauth2: no token endpoint")?;
        let mut client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
            .set_token_uri(TokenUrl::new(url.clone()).with_context(|| format!("oauth2.token_url {url:?}"))?)
            // Microsoft documents the secret in the form body; every provider takes it there.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = cfg.secret().map_err(|e| anyhow!(e))? {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        Ok(TokenSource {
            client,
            http: OAuthHttp(crate::http::client()?),
            scope: cfg.scope.clone(),
            grant: cfg.grant,
            refresh,
            state: Mutex::new(State::default()),
        })
    }

    /// A token that is good for a while yet; fetched when there is none, or it is due for renewal.
    pub async fn token(&self) -> Result<Secret> {
        let mut state = self.state.lock().await;
        if let Some(t) = state.token.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.secret.clone());
        }
        if let Some(wait) = state.not_before.filter(|t| Instant::now() < *t) {
            let secs = wait.saturating_duration_since(Instant::now()).as_secs();
            anyhow::bail!("the token endpoint failed ({}); asking again in {secs} s", state.last_error);
        }
        match self.fetch().await {
            Ok(held) => {
                let secret = held.secret.clone();
                state.token = Some(held);
                state.failures = 0;
                state.not_before = None;
                metrics::counter!("routedesk_oauth2_tokens_total").increment(1);
                Ok(secret)
            }
            Err(e) => {
                state.failures = state.failures.saturating_add(1);
                let pause = Duration::from_secs(1u64 << state.failures.min(9)).min(MAX_PAUSE);
                state.not_before = Some(Instant::now() + pause);
                state.last_error = format!("{e:#}");
                metrics::counter!("routedesk_oauth2_token_errors_total").increment(1);
                Err(e)
            }
        }
    }

    /// The server refused `token` (it may have expired early, or been revoked): it is not handed
    /// out again, and the next [`token`](Self::token) asks the endpoint at once.
    pub async fn refused(&self, token: &Secret) {
        let mut state = self.state.lock().await;
        if state.token.as_ref().is_some_and(|t| t.secret.expose() == token.expose()) {
            state.token = None;
            state.not_before = None;
        }
    }

    /// Fetches a token now, for `check-config`: what it was given, not the token.
    pub async fn probe(&self) -> Result<Issued> {
        let held = self.fetch().await?;
        Ok(Issued { expires_in: held.expires_in, scopes: held.scopes })
    }

    async fn fetch(&self) -> Result<Held> {
        let started = Instant::now();
        let response = match self.grant {
            Grant::ClientCredentials => self
                .client
                .exchange_client_credentials()
                .add_scope(Scope::new(self.scope.clone()))
                .request_async(&self.http)
                .await
                .map_err(|e| anyhow!(describe(&e)))?,
            Grant::RefreshToken => {
                let store = self.refresh.as_ref().context("no store for the refresh token")?;
                let stored = store.load().await?.context("no refresh token stored: run `routedesk oauth2 login`")?;
                let response = self
                    .client
                    .exchange_refresh_token(&oauth2::RefreshToken::new(stored))
                    .add_scope(Scope::new(self.scope.clone()))
                    .request_async(&self.http)
                    .await
                    .map_err(|e| anyhow!(describe(&e)))?;
                // Providers may rotate the refresh token: keep the new one.
                if let Some(next) = response.refresh_token() {
                    store.save(next.secret()).await?;
                }
                response
            }
        };
        let expires_in = response.expires_in();
        // Renewed ahead of expiry, but never sooner than half its life (short-lived test tokens).
        let life = expires_in.unwrap_or(Duration::from_secs(3600));
        let renew_after = life.saturating_sub(AHEAD).max(life / 2);
        Ok(Held {
            secret: Secret::new(response.access_token().secret().clone()),
            renew_at: started + renew_after,
            expires_in,
            scopes: response.scopes().map(|s| s.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
        })
    }
}

/// The endpoint's error without anything secret: its error code and text, or the transport's.
fn describe<E: std::error::Error>(e: &oauth2::RequestTokenError<E, oauth2::basic::BasicErrorResponse>) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => match r.error_description() {
            Some(d) => format!("the token endpoint refused: {} ({d})", r.error()),
            None => format!("the token endpoint refused: {}", r.error()),
        },
        oauth2::RequestTokenError::Request(e) => format!("the token endpoint did not answer: {e}"),
        oauth2::RequestTokenError::Parse(e, _) => format!("the token endpoint's answer is not a token: {e}"),
        oauth2::RequestTokenError::Other(e) => format!("the token endpoint: {e}"),
    }
}

impl RefreshStore {
    async fn load(&self) -> Result<Option<String>> {
        let Some(sealed) = self.store.setting("oauth2-refresh-token").await? else { return Ok(None) };
        crate::tokens::seal::open(&self.key, &sealed).map(Some)
    }

    pub async fn save(&self, token: &str) -> Result<()> {
        let sealed = crate::tokens::seal::seal(&self.key, token)?;
        self.store.set_setting("oauth2-refresh-token", &sealed).await
    }
}

mod seal;
