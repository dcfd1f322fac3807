//! `routedesk oauth2 login`: once, a person signs in at the provider as the mailbox's user (Google
//! gives mailbox access to users, not apps); the refresh token that comes back is stored in the
//! database, encrypted, for the refresh-token grant. The browser comes back to a listener on
//! loopback (RFC 8252), with PKCE and a checked `state`.

use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope,
    TokenResponse as _, TokenUrl,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::RefreshStore;
use crate::config::OAuth2Config;
use crate::http::OAuthHttp;

/// How long the person has to sign in.
const WAIT: Duration = Duration::from_secs(600);
const CALLBACK: &str = "/auth/callback";

/// Runs the sign-in: `show` is given the address to open; returns once the refresh token is stored.
pub async fn login(cfg: &OAuth2Config, store: &RefreshStore, show: impl FnOnce(&str)) -> Result<()> {
    let auth_url = cfg.auth_url.clone().context("oauth2.auth_url is needed to sign in")?;
    let token_url = cfg.token_endpoint().context("oauth2: no token endpoint")?;
    let listener = TcpListener::bind("127.0.0.1:0").await.context("listening on loopback for the sign-in")?;
    let redirect = format!("http://127.0.0.1:{}{CALLBACK}", listener.local_addr()?.port());
    let mut client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_auth_uri(AuthUrl::new(auth_url).context("oauth2.auth_url")?)
        .set_token_uri(TokenUrl::new(token_url).context("oauth2.token_url")?)
        .set_redirect_uri(RedirectUrl::new(redirect).context("the loopback address")?)
        .set_auth_type(AuthType::RequestBody);
    if let Some(secret) = cfg.secret().map_err(|e| anyhow!(e))? {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for scope in cfg.scope.split_whitespace() {
        request = request.add_scope(Scope::new(scope.to_string()));
    }
    // Google hands out a refresh token only when asked for offline access with consent.
    let (url, state) = request.add_extra_param("access_type", "offline").add_extra_param("prompt", "consent").url();
    show(url.as_str());

    let code = tokio::time::timeout(WAIT, callback(&listener, state.secret()))
        .await
        .map_err(|_| anyhow!("nobody signed in within {} minutes", WAIT.as_secs() / 60))??;
    let http = OAuthHttp(crate::http::client()?);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|e| anyhow!(super::describe(&e)))?;
    let refresh = tokens.refresh_token().context("the provider gave no refresh token (offline access not granted)")?;
    store.save(refresh.secret()).await
}

/// Waits for the browser to come back with `code` and the right `state`; answers it with a page.
async fn callback(listener: &TcpListener, state: &str) -> Result<String> {
    loop {
        let (mut conn, _) = listener.accept().await.context("waiting for the browser")?;
        let mut buf = vec![0u8; 8192];
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await.unwrap_or(Ok(0)).unwrap_or(0);
        let request = String::from_utf8_lossy(&buf[..n]);
        let target = request.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("");
        let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1{target}")) else { continue };
        if url.path() != CALLBACK {
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            continue;
        }
        let param = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
        let (answer, result) = match (param("state"), param("code"), param("error")) {
            (Some(s), Some(code), None)
                if bool::from(subtle::ConstantTimeEq::ct_eq(s.as_bytes(), state.as_bytes())) =>
            {
                ("Signed in: routedesk has its token. You can close this window.", Ok(code))
            }
            (_, _, Some(e)) => ("The sign-in was refused.", Err(anyhow!("the provider refused the sign-in: {e}"))),
            _ => ("This answer does not belong to this sign-in.", Err(anyhow!("a callback with the wrong state"))),
        };
        let page = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        );
        let _ = conn.write_all(page.as_bytes()).await;
        match result {
            Ok(code) => return Ok(code),
            // A stray request with the wrong state is refused, and the real one still awaited.
            Err(e) if param("error").is_none() => tracing::warn!(error = %e, "ignored a callback"),
            Err(e) => bail!(e),
        }
    }
}
