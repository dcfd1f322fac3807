//! Staff sign-in at the region's OpenID provider (`[web.oidc]`): the authorization code flow with
//! PKCE, `state` and `nonce`; the ID token's signature, issuer, audience and expiry checked by the
//! `openidconnect` crate against the provider's discovery document and keys, which are read at
//! start-up (retried with backoff while the provider is down) and again every hour.
//!
//! The pending `state`, `nonce` and PKCE verifier are kept in the database (`sso_pending`), bound to
//! the browser by an HttpOnly cookie, and can be used once.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context as _, Result};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClientAuthMethod, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields,
    EndSessionUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IdTokenVerifier, IssuerUrl,
    LanguageTag, LogoutRequest, Nonce, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse,
    TokenResponse as _,
};
use serde::{Deserialize, Serialize};

use crate::config::{OidcConfig, RoleMapping};
use crate::http::OAuthHttp;
use crate::policy::Policy;
use crate::store::PendingSignIn;

/// The provider's discovery document, with its end-session endpoint when it has one.
pub type Metadata = openidconnect::ProviderMetadataWithLogout;

/// The claims of the ID token besides the standard ones, by name (`groups`, `roles`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExtraClaims(HashMap<String, serde_json::Value>);

impl openidconnect::AdditionalClaims for ExtraClaims {}

type IdToken =
    openidconnect::IdToken<ExtraClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type IdTokenClaims = openidconnect::IdTokenClaims<ExtraClaims, CoreGenderClaim>;
type Tokens = StandardTokenResponse<
    IdTokenFields<
        ExtraClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;
type OidcClient = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How long a sign-in sent to the provider may take.
pub const PENDING: time::Duration = time::Duration::minutes(10);
/// The discovery document and keys are read again this often (keys are rotated).
const REFRESH: Duration = Duration::from_secs(3600);
/// The longest wait between two attempts to reach a provider that is down.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// ID tokens signed with a shared secret (HS256) are never taken: only the provider's own keys.
const ASYMMETRIC: [CoreJwsSigningAlgorithm; 10] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
    CoreJwsSigningAlgorithm::EcdsaP521Sha512,
    CoreJwsSigningAlgorithm::EdDsa,
];

/// The provider as last discovered.
struct Provider {
    client: OidcClient,
    algorithms: Vec<CoreJwsSigningAlgorithm>,
    end_session: Option<EndSessionUrl>,
}

/// Sign-in at the provider: its configuration, and what discovery found.
pub struct Sso {
    cfg: OidcConfig,
    secret: crate::config::Secret,
    http: OAuthHttp,
    provider: RwLock<Option<Arc<Provider>>>,
}

/// A sign-in to send the browser off with.
#[derive(Debug)]
pub struct Started {
    /// The provider's authorization URL.
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

/// Who signed in, as the provider vouches in the verified ID token.
#[derive(Debug, Clone)]
pub struct Identity {
    pub subject: String,
    /// The e-mail address (lower case): the account's username.
    pub username: String,
    pub name: String,
    /// The values of the role claim.
    pub claim_values: Vec<String>,
    /// The ID token as received, for the provider's sign-out.
    pub id_token: String,
}

/// Why a sign-in at the provider was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the provider's configuration has not been read yet")]
    NotReady,
    #[error("the provider did not give tokens for the code: {0}")]
    Exchange(String),
    #[error("the ID token was refused ({check}): {detail}")]
    Token { check: &'static str, detail: String },
    #[error("the ID token names no e-mail address")]
    NoAddress,
}

impl SsoError {
    /// The audit log's result for this refusal.
    pub fn result(&self) -> &'static str {
        match self {
            SsoError::NotReady => "unavailable",
            SsoError::Exchange(_) => "provider-error",
            SsoError::Token { .. } => "bad-token",
            SsoError::NoAddress => "no-address",
        }
    }

    /// The check that failed, for the audit log's object column.
    pub fn check(&self) -> &'static str {
        match self {
            SsoError::Token { check, .. } => check,
            _ => "",
        }
    }
}

fn token_error(e: ClaimsVerificationError) -> SsoError {
    let check = match e {
        ClaimsVerificationError::Expired(_) => "expired",
        ClaimsVerificationError::InvalidAudience(_) => "audience",
        ClaimsVerificationError::InvalidIssuer(_) => "issuer",
        ClaimsVerificationError::InvalidNonce(_) => "nonce",
        ClaimsVerificationError::SignatureVerification(_) => "signature",
        ClaimsVerificationError::InvalidSubject(_) => "subject",
        _ => "other",
    };
    SsoError::Token { check, detail: e.to_string() }
}

impl Sso {
    /// Checks the role map against the policy; nothing is fetched yet (see [`Sso::discover`]).
    pub fn new(cfg: &OidcConfig, policy: &Policy) -> Result<Sso> {
        for m in &cfg.role_map {
            if let Some(id) = m.municipality.as_deref().filter(|id| policy.municipality(id).is_none()) {
                anyhow::bail!("web.oidc.role_map {:?}: municipality {id:?} is not in the policy", m.value);
            }
        }
        let secret = cfg.secret().map_err(anyhow::Error::msg)?;
        Ok(Sso { cfg: cfg.clone(), secret, http: OAuthHttp(crate::http::client()?), provider: RwLock::new(None) })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.cfg
    }

    /// Whether the provider's configuration has been read (sign-in can begin).
    pub fn ready(&self) -> bool {
        self.current().is_some()
    }

    fn current(&self) -> Option<Arc<Provider>> {
        self.provider.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the provider's discovery document and keys.
    pub async fn discover(&self) -> Result<()> {
        let issuer = IssuerUrl::new(self.cfg.issuer.clone()).context("web.oidc.issuer")?;
        let metadata = Metadata::discover_async(issuer, &self.http)
            .await
            .with_context(|| format!("reading the OpenID configuration of {}", self.cfg.issuer))?;
        self.install(metadata)
    }

    /// Takes `metadata` (with its keys) as the provider's.
    pub fn install(&self, metadata: Metadata) -> Result<()> {
        let algorithms: Vec<_> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|a| ASYMMETRIC.contains(a))
            .cloned()
            .collect();
        if algorithms.is_empty() {
            anyhow::bail!("{} signs ID tokens with no algorithm routedesk accepts (RS256, ES256, …)", self.cfg.issuer);
        }
        let methods = metadata.token_endpoint_auth_methods_supported();
        let post_only = methods.is_some_and(|m| {
            !m.contains(&CoreClientAuthMethod::ClientSecretBasic) && m.contains(&CoreClientAuthMethod::ClientSecretPost)
        });
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.cfg.redirect_url.clone()).context("web.oidc.redirect_url")?;
        let client = OidcClient::from_provider_metadata(
            metadata,
            ClientId::new(self.cfg.client_id.clone()),
            Some(ClientSecret::new(self.secret.expose().to_string())),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(if post_only { AuthType::RequestBody } else { AuthType::BasicAuth });
        let provider = Arc::new(Provider { client, algorithms, end_session });
        *self.provider.write().unwrap_or_else(|p| p.into_inner()) = Some(provider);
        metrics::gauge!("routedesk_sso_ready").set(1.0);
        Ok(())
    }

    /// Discovers the provider, retrying with backoff while it cannot be reached, then reads it
    /// again every hour; until `shutdown`.
    pub async fn keep_discovered(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        metrics::gauge!("routedesk_sso_ready").set(if self.ready() { 1.0 } else { 0.0 });
        let mut backoff = Duration::from_secs(1);
        loop {
            let was_ready = self.ready();
            let wait = match self.discover().await {
                Ok(()) => {
                    if !was_ready || backoff > Duration::from_secs(1) {
                        tracing::info!(issuer = %self.cfg.issuer, "sign-in at the OpenID provider is ready");
                    }
                    backoff = Duration::from_secs(1);
                    REFRESH
                }
                Err(e) => {
                    let wait = backoff + Duration::from_millis(fastrand::u64(0..=backoff.as_millis() as u64 / 2));
                    tracing::warn!(
                        error = format!("{e:#}"),
                        retry_in_secs = wait.as_secs(),
                        ready = self.ready(),
                        "cannot read the OpenID provider's configuration"
                    );
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// A new sign-in: the provider's URL to send the browser to, with what must come back.
    pub fn begin(&self, lang: &str) -> Result<Started, SsoError> {
        let p = self.current().ok_or(SsoError::NotReady)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = p
            .client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge)
            .add_ui_locale(LanguageTag::new(lang.to_string()));
        for scope in self.cfg.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// The issuer routedesk trusts (an answer naming another one is refused: RFC 9207).
    pub fn issuer(&self) -> &str {
        &self.cfg.issuer
    }

    fn verifier<'a>(&self, p: &'a Provider) -> IdTokenVerifier<'a, CoreJsonWebKey> {
        p.client.id_token_verifier().set_allowed_algs(p.algorithms.clone())
    }

    /// Exchanges the code (with the PKCE verifier) for tokens and verifies the ID token: signature
    /// with the provider's keys, issuer, audience, expiry and the nonce of this sign-in.
    pub async fn finish(&self, code: &str, pending: &PendingSignIn) -> Result<Identity, SsoError> {
        let p = self.current().ok_or(SsoError::NotReady)?;
        let tokens = p
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SsoError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                SsoError::Exchange(match e {
                    RequestTokenError::ServerResponse(r) => format!("{r}"),
                    other => format!("{other}"),
                })
            })?;
        let token = tokens
            .id_token()
            .ok_or(SsoError::Token { check: "missing", detail: "no ID token in the answer".into() })?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match token.claims(&self.verifier(&p), &nonce) {
            Ok(c) => c.clone(),
            // The provider may have rotated its keys since they were read: read them again, once.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                if let Err(e) = self.discover().await {
                    tracing::warn!(error = format!("{e:#}"), "cannot read the provider's keys again");
                }
                let p = self.current().ok_or(SsoError::NotReady)?;
                token.claims(&self.verifier(&p), &nonce).map_err(token_error)?.clone()
            }
            Err(e) => return Err(token_error(e)),
        };
        self.identity(&claims, token.to_string())
    }

    fn identity(&self, claims: &IdTokenClaims, id_token: String) -> Result<Identity, SsoError> {
        let email = claims.email().map(|e| e.as_str().to_string());
        let username = email
            .or_else(|| claims.preferred_username().map(|u| u.as_str().to_string()))
            .filter(|a| crate::text::address::is_valid(a))
            .ok_or(SsoError::NoAddress)?
            .to_lowercase();
        let name = claims.name().and_then(|n| n.get(None)).map_or_else(|| username.clone(), |n| n.to_string());
        let claim_values = match claims.additional_claims().0.get(&self.cfg.role_claim) {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        };
        Ok(Identity { subject: claims.subject().to_string(), username, name, claim_values, id_token })
    }

    /// The role the claim gives: the first entry of the role map that the claim holds.
    pub fn role_of(&self, who: &Identity) -> Option<&RoleMapping> {
        self.cfg.role_map.iter().find(|m| who.claim_values.contains(&m.value))
    }

    /// The provider's sign-out URL for a session begun with `id_token`, when it has one.
    pub fn end_session_url(&self, id_token: &str) -> Option<String> {
        let endpoint = self.current()?.end_session.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.cfg.client_id.clone()));
        if let Ok(token) = IdToken::from_str(id_token) {
            request = request.set_id_token_hint(&token);
        }
        if let Some(back) = self.cfg.post_logout_url().and_then(|u| PostLogoutRedirectUrl::new(u).ok()) {
            request = request.set_post_logout_redirect_uri(back);
        }
        Some(request.http_get_url().to_string())
    }
}
