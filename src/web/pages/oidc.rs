//! Sign-in at the region's OpenID provider: `/auth/login` sends the browser there, `/auth/callback`
//! takes it back, checks the answer, makes or updates the account from the role claim, and begins
//! the session as the password sign-in does.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use super::login::{append_cookie, login_page, safe_next, start_session};
use crate::store::{PendingSignIn, SsoAccount, SsoUpsert};
use crate::web::audit::{self, Action};
use crate::web::auth::{self, SSO_COOKIE};
use crate::web::error::{WebError, WebResult};
use crate::web::i18n::Texts;
use crate::web::sso::{self, SsoError};
use crate::web::{AppState, client};

/// At most this many sign-ins under way at once (each is a row until it is back or runs out).
const MAX_PENDING: i64 = 10_000;

#[derive(Deserialize)]
pub struct Begin {
    next: Option<String>,
}

fn sso_cookie(value: &str, max_age: i64, secure: bool) -> String {
    // Sent only to the sign-in pages, where it binds a sign-in to the browser that began it.
    let mut cookie = auth::cookie_for(SSO_COOKIE, value, max_age, secure);
    cookie.set_path("/auth");
    cookie.to_string()
}

/// The sign-in page with a message, and a hint when to try again.
fn refused(
    headers: &HeaderMap,
    state: &AppState,
    next: String,
    text: fn(&Texts) -> &'static str,
    status: StatusCode,
) -> Response {
    let mut res = login_page(headers, state, next, Some(text), status, false);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    res
}

/// `GET /auth/login`: notes the sign-in (state, nonce, PKCE verifier) and sends the browser to the
/// provider.
pub async fn begin(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Begin>) -> WebResult<Response> {
    let Some(sso) = state.sso.clone() else { return Err(WebError::NotFound) };
    let next = safe_next(q.next.as_deref());
    let lang = auth::lang_of(&headers);
    let started = match sso.begin(lang.code()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in at the provider cannot begin");
            let unavailable = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(refused(&headers, &state, next, |t| t.sso_unavailable, unavailable));
        }
    };
    // One browser id for all its sign-ins under way (a second tab does not spoil the first).
    let browser = auth::cookie(&headers, SSO_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(crate::secret::random_token);
    let pending = PendingSignIn {
        browser_hash: crate::secret::token_hash(&browser),
        nonce: started.nonce,
        verifier: started.verifier,
        next: next.clone(),
    };
    let now = OffsetDateTime::now_utc();
    let state_hash = crate::secret::token_hash(&started.state);
    if !state.desk.store().begin_sso(&state_hash, &pending, now, now + sso::PENDING, MAX_PENDING).await? {
        tracing::warn!("sign-in at the provider refused: too many sign-ins under way");
        return Ok(refused(&headers, &state, next, |t| t.login_busy, StatusCode::SERVICE_UNAVAILABLE));
    }
    let mut res = Redirect::to(&started.url).into_response();
    append_cookie(&mut res, &sso_cookie(&browser, sso::PENDING.whole_seconds(), state.secure_cookies))?;
    Ok(res)
}

/// The provider's answer (RFC 6749 4.1.2, with RFC 9207's `iss`).
#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// `GET /auth/callback`: the browser back from the provider.
pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> WebResult<Response> {
    let Some(sso) = state.sso.clone() else { return Err(WebError::NotFound) };
    let address = client::address(peer.ip(), &headers, &state.trusted_proxies);
    let store = state.desk.store();
    let now = OffsetDateTime::now_utc();
    let refuse = async |actor: &str, result: &str, check: &str, text: fn(&Texts) -> &'static str, next: String| {
        tracing::warn!(actor, result, check, %address, "sign-in at the provider refused");
        audit::record(&state, actor, Action::SsoSignIn, check, result, Some(address)).await?;
        let status = if result == "unavailable" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::FORBIDDEN };
        WebResult::Ok(refused(&headers, &state, next, text, status))
    };

    // The sign-in this browser began, found by its state and used once.
    let pending = match answer.state.as_deref() {
        Some(s) => store.take_sso(&crate::secret::token_hash(s), now).await?,
        None => None,
    };
    let browser = auth::cookie(&headers, SSO_COOKIE).map(|c| crate::secret::token_hash(&c));
    let Some(pending) = pending.filter(|p| browser.is_some_and(|b| crate::secret::same_secret(&b, &p.browser_hash)))
    else {
        return refuse("sso", "bad-state", "state", |t| t.sso_failed, safe_next(None)).await;
    };
    let next = safe_next(Some(&pending.next));
    if let Some(error) = answer.error.as_deref() {
        let (result, text): (_, fn(&Texts) -> &'static str) = match error {
            "access_denied" => ("cancelled", |t| t.sso_cancelled),
            _ => ("provider-error", |t| t.sso_failed),
        };
        return refuse("sso", result, "", text, next).await;
    }
    // An answer that names another issuer is meant for another provider (mix-up: RFC 9207).
    if answer.iss.as_deref().is_some_and(|iss| iss != sso.issuer()) {
        return refuse("sso", "bad-issuer", "iss", |t| t.sso_failed, next).await;
    }
    let Some(code) = answer.code.as_deref().filter(|c| !c.is_empty()) else {
        return refuse("sso", "no-code", "", |t| t.sso_failed, next).await;
    };
    let who = match sso.finish(code, &pending).await {
        Ok(who) => who,
        Err(e) => {
            tracing::warn!(error = %e, "the provider's answer was not taken");
            let text: fn(&Texts) -> &'static str =
                if matches!(e, SsoError::NotReady) { |t| t.sso_unavailable } else { |t| t.sso_failed };
            return refuse("sso", e.result(), e.check(), text, next).await;
        }
    };
    let actor = format!("{} (sso)", who.username);
    let Some(mapping) = sso.role_of(&who) else {
        // No role any more: whatever sessions the account has end too.
        if let Some(user) = store.user_by_sso_subject(&who.subject).await? {
            store.end_sessions_of(user.id).await?;
        }
        return refuse(&actor, "no-role", "", |t| t.sso_no_role, next).await;
    };
    let account = SsoAccount {
        subject: &who.subject,
        username: &who.username,
        name: &who.name,
        role: mapping.role.parse().map_err(anyhow::Error::from)?,
        municipality: mapping.municipality.as_deref(),
    };
    let (user, made) = match store.upsert_sso_user(&account, now).await? {
        SsoUpsert::Created(u) => (u, true),
        SsoUpsert::Updated(u) => (u, false),
        SsoUpsert::NameTaken => return refuse(&actor, "name-taken", "", |t| t.sso_name_taken, next).await,
    };
    if user.disabled {
        return refuse(&auth::actor(&user), "disabled", "", |t| t.sso_disabled, next).await;
    }
    tracing::info!(user = %user.username, role = %user.role, made, %address, "signed in at the provider");
    let object = if made { "account-created" } else { "" };
    audit::record(&state, &auth::actor(&user), Action::SsoSignIn, object, "ok", Some(address)).await?;
    start_session(&state, &headers, &user, Some(&who.id_token), &next).await
}
