//! Sign-in, sign-out and the language switch.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::web::audit::{self, Action};
use crate::web::auth::{self, LANG_COOKIE, LOGIN_COOKIE, SESSION_COOKIE, SESSIONS, Staff};
use crate::web::error::{WebError, WebResult};
use crate::web::i18n::{Lang, Texts};
use crate::web::{AppState, client, limiter};

#[derive(Template, WebTemplate)]
#[template(path = "web/login.html")]
struct LoginPage {
    t: &'static Texts,
    lang: &'static str,
    csrf: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// Only our own paths: never an open redirect to another site. A browser drops tabs and line
/// breaks from a URL and reads `\\` as `/`, so `/\t/evil.example` or `/\\evil.example` would become
/// `//evil.example`: a path must start with exactly one `/` and a path character, and may hold no
/// control character, whitespace or backslash anywhere.
fn safe_next(next: Option<&str>) -> String {
    const PATH_PUNCTUATION: &str = "-._~!$&'()*+,;=:@%";
    let own_path = |n: &str| {
        let mut chars = n.chars();
        chars.next() == Some('/')
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || PATH_PUNCTUATION.contains(c))
            && !n.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    match next {
        Some(n) if own_path(n) => n.to_string(),
        _ => "/tickets".to_string(),
    }
}

/// The sign-in page; `error` picks its message from the catalogue.
fn login_page(
    headers: &HeaderMap,
    state: &AppState,
    next: String,
    error: Option<fn(&Texts) -> &'static str>,
    status: StatusCode,
) -> Response {
    let lang = auth::lang_of(headers);
    let t = lang.texts();
    // Double-submit token for the sign-in form, before any session exists.
    let token = auth::random_token();
    let page = LoginPage { t, lang: lang.code(), csrf: token.clone(), next, error: error.map(|e| e(t)) };
    let cookie = auth::set_cookie(LOGIN_COOKIE, &token, 3600, state.secure_cookies);
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

/// The sign-in page again with a message, telling the browser when to come back.
fn come_back(
    headers: &HeaderMap,
    state: &AppState,
    next: String,
    error: fn(&Texts) -> &'static str,
    status: StatusCode,
    after: std::time::Duration,
) -> Response {
    let mut res = login_page(headers, state, next, Some(error), status);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs().max(1)));
    res
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    login_page(&headers, &state, safe_next(q.next.as_deref()), None, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> WebResult<Response> {
    let expected = auth::cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !auth::same_secret(expected, &c.csrf) {
        return Err(WebError::Forbidden);
    }
    let address = client::address(peer.ip(), &headers, &state.trusted_proxies);
    let next = safe_next(c.next.as_deref());
    let name = c.username.trim();
    // Throttled before any hashing: refused attempts cost no argon2 time.
    if let Err(wait) = state.limiter.admit(name, address) {
        let user = limiter::fingerprint(name);
        tracing::warn!(%user, %address, wait_secs = wait.as_secs(), "sign-in refused: too many attempts");
        audit::record(&state, &format!("name#{user}"), Action::SignIn, "", "throttled", Some(address)).await?;
        return Ok(come_back(&headers, &state, next, |t| t.login_too_many, StatusCode::TOO_MANY_REQUESTS, wait));
    }
    let Some(_slot) = state.limiter.hashing_slot().await else {
        tracing::warn!(%address, "sign-in refused: every password hashing slot is busy");
        let wait = std::time::Duration::from_secs(5);
        return Ok(come_back(&headers, &state, next, |t| t.login_busy, StatusCode::SERVICE_UNAVAILABLE, wait));
    };
    let Some(user) = auth::check_login(&state, name, &c.password).await? else {
        // The name only as a fingerprint: a mistyped name is sometimes a password.
        let user = limiter::fingerprint(name);
        tracing::warn!(%user, %address, "sign-in failed");
        audit::record(&state, &format!("name#{user}"), Action::SignIn, "", "failed", Some(address)).await?;
        return Ok(login_page(&headers, &state, next, Some(|t| t.login_wrong), StatusCode::UNAUTHORIZED));
    };
    state.limiter.succeeded(name, address);
    // A new session id at every sign-in; an old one presented with the request is ended.
    if let Some(old) = auth::cookie(&headers, SESSION_COOKIE) {
        state.desk.store.delete_session(&auth::token_hash(old)).await?;
    }
    let token = auth::random_token();
    let now = OffsetDateTime::now_utc();
    // Sessions that ran out are removed here, so the table holds only live ones (and a few idle).
    state.desk.store.delete_expired_sessions(now, SESSIONS.idle).await?;
    let expires = now + SESSIONS.absolute;
    let (id, csrf) = (auth::token_hash(&token), auth::random_token());
    state.desk.store.create_session(&id, user.id, &csrf, now, expires, None).await?;
    tracing::info!(user = %user.username, %address, "signed in");
    audit::record(&state, &auth::actor(&user), Action::SignIn, "", "ok", Some(address)).await?;
    let mut res = Redirect::to(&next).into_response();
    let h = res.headers_mut();
    let session = auth::set_cookie(SESSION_COOKIE, &token, SESSIONS.absolute.whole_seconds(), state.secure_cookies);
    h.append(header::SET_COOKIE, session.parse().map_err(|e| WebError::Internal(anyhow::anyhow!("cookie: {e}")))?);
    h.append(
        header::SET_COOKIE,
        auth::set_cookie(LOGIN_COOKIE, "", 0, state.secure_cookies)
            .parse()
            .map_err(|e| WebError::Internal(anyhow::anyhow!("cookie: {e}")))?,
    );
    Ok(res)
}

#[derive(Deserialize)]
pub struct Token {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
}

pub async fn logout(State(state): State<AppState>, staff: Staff, Form(f): Form<Token>) -> WebResult<Response> {
    staff.check_csrf(&f.csrf)?;
    state.desk.store.delete_session(&staff.session).await?;
    let cookie = auth::set_cookie(SESSION_COOKIE, "", 0, state.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

pub async fn language(State(state): State<AppState>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Nb);
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{}",
        lang.code(),
        if state.secure_cookies { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(&safe_next(back.as_deref()))).into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn our_own_paths_are_kept() {
        for path in [
            "/tickets",
            "/tickets/RD-2026-000001",
            "/tickets?q=l%C3%B8nn&status=routed",
            "/privacy/PRV-2026-0001",
            "/~x",
            "/%2F",
        ] {
            assert_eq!(safe_next(Some(path)), path);
        }
    }

    #[test]
    fn anything_a_browser_could_read_as_another_site_is_refused() {
        for hostile in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n//evil.example",
            "/ /evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/tickets\\..\\..\\evil",
            "/tickets\t",
            "/tickets\u{0}",
            "/tickets\u{7f}",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
            "https://evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/tickets", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/tickets");
    }
}
