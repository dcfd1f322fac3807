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
use crate::web::auth::{self, LANG_COOKIE, SESSIONS, Staff};
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
    /// "Logg inn med Entra ID" and where it leads, when sign-in at the provider is set up.
    sso: Option<(String, String)>,
    /// Whether the password form is shown.
    password_form: bool,
    /// Sign-in is at the provider: passwords are for break-glass accounts only.
    break_glass: bool,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
    /// Asks for the password form where sign-in is at the provider (emergency access).
    password: Option<String>,
}

/// The signed-out page: routedesk's session has ended; the browser goes on to the provider's.
#[derive(Template, WebTemplate)]
#[template(path = "web/signed_out.html")]
struct SignedOutPage {
    t: &'static Texts,
    lang: &'static str,
    provider: String,
    url: String,
}

/// Only our own paths: never an open redirect to another site. A browser drops tabs and line
/// breaks from a URL and reads `\\` as `/`, so `/\t/evil.example` or `/\\evil.example` would become
/// `//evil.example`: a path must start with exactly one `/` and a path character, and may hold no
/// control character, whitespace or backslash anywhere.
pub(super) fn safe_next(next: Option<&str>) -> String {
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

/// The sign-in page; `error` picks its message from the catalogue. `password`: the visitor asked
/// for the password form (shown anyway unless sign-in is at the provider only).
pub(super) fn login_page(
    headers: &HeaderMap,
    state: &AppState,
    next: String,
    error: Option<fn(&Texts) -> &'static str>,
    status: StatusCode,
    password: bool,
) -> Response {
    let lang = auth::lang_of(headers);
    let t = lang.texts();
    // Double-submit token for the sign-in form, before any session exists.
    let token = crate::secret::random_token();
    let sso = state.sso.as_ref().map(|s| {
        let name = Some(s.config().display_name.as_str()).filter(|n| !n.is_empty()).unwrap_or(t.sso_default_name);
        (format!("{} {name}", t.sign_in_with), format!("/auth/login?next={}", auth::urlencode(&next)))
    });
    let password_login = state.password_login();
    let page = LoginPage {
        t,
        lang: lang.code(),
        csrf: token.clone(),
        next,
        error: error.map(|e| e(t)),
        sso,
        password_form: password_login || password,
        break_glass: !password_login,
    };
    let cookie = auth::set_cookie(state.login_cookie(), &token, 3600, state.secure_cookies);
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
    let mut res = login_page(headers, state, next, Some(error), status, true);
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs().max(1)));
    res
}

pub async fn form(State(state): State<AppState>, headers: HeaderMap, Query(q): Query<Next>) -> Response {
    login_page(&headers, &state, safe_next(q.next.as_deref()), None, StatusCode::OK, q.password.is_some())
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
    let expected = auth::cookie(&headers, state.login_cookie()).unwrap_or_default();
    if expected.is_empty() || !crate::secret::same_secret(&expected, &c.csrf) {
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
    let found = auth::check_login(&state, name, &c.password).await?;
    // Where sign-in is at the provider, a password opens break-glass accounts only; the answer is
    // the same as for a wrong password, so it tells nothing about the password.
    let (found, result) = match found {
        Some(u) if !state.password_login() && !u.break_glass => (None, "not-break-glass"),
        other => (other, "failed"),
    };
    let Some(user) = found else {
        // The name only as a fingerprint: a mistyped name is sometimes a password.
        let user = limiter::fingerprint(name);
        tracing::warn!(%user, %address, result, "sign-in failed");
        audit::record(&state, &format!("name#{user}"), Action::SignIn, "", result, Some(address)).await?;
        return Ok(login_page(&headers, &state, next, Some(|t| t.login_wrong), StatusCode::UNAUTHORIZED, true));
    };
    state.limiter.succeeded(name, address);
    tracing::info!(user = %user.username, %address, "signed in");
    audit::record(&state, &auth::actor(&user), Action::SignIn, "", "ok", Some(address)).await?;
    let mut res = start_session(&state, &headers, &user, None, &next).await?;
    append_cookie(&mut res, &auth::set_cookie(state.login_cookie(), "", 0, state.secure_cookies))?;
    Ok(res)
}

/// Begins a session for `user` and sends the browser on to `next`: a new session id at every
/// sign-in (an old one presented with the request is ended). `id_token`: from the provider, kept
/// for its sign-out.
pub(super) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &crate::store::UserRow,
    id_token: Option<&str>,
    next: &str,
) -> WebResult<Response> {
    if let Some(old) = auth::cookie(headers, state.session_cookie()) {
        state.desk.store().delete_session(&crate::secret::token_hash(&old)).await?;
    }
    let token = crate::secret::random_token();
    let now = OffsetDateTime::now_utc();
    // Sessions that ran out are removed here, so the table holds only live ones (and a few idle).
    state.desk.store().delete_expired_sessions(now, SESSIONS.idle).await?;
    let expires = now + SESSIONS.absolute;
    let (id, csrf) = (crate::secret::token_hash(&token), crate::secret::random_token());
    state.desk.store().create_session(&id, user.id, &csrf, now, expires, id_token).await?;
    let mut res = Redirect::to(next).into_response();
    let session =
        auth::set_cookie(state.session_cookie(), &token, SESSIONS.absolute.whole_seconds(), state.secure_cookies);
    append_cookie(&mut res, &session)?;
    Ok(res)
}

pub(super) fn append_cookie(res: &mut Response, cookie: &str) -> WebResult<()> {
    let value = cookie.parse().map_err(|e| WebError::Internal(anyhow::anyhow!("cookie: {e}")))?;
    res.headers_mut().append(header::SET_COOKIE, value);
    Ok(())
}

#[derive(Deserialize)]
pub struct Token {
    /// Missing is refused like wrong (403), not as a malformed form.
    #[serde(default)]
    csrf: String,
}

/// Ends the session. One begun at the provider goes on to the provider's sign-out, when it has one
/// (a page that forwards the browser: the form's own redirect would leave the site).
pub async fn logout(State(state): State<AppState>, staff: Staff, Form(f): Form<Token>) -> WebResult<Response> {
    staff.check_csrf(&f.csrf)?;
    let id_token = state.desk.store().end_session(&staff.session).await?;
    let sso = state.sso.as_ref();
    let provider = sso.zip(id_token.as_deref()).and_then(|(s, token)| s.end_session_url(token));
    let object = if provider.is_some() { "provider" } else { "" };
    audit::by(&state, &staff, Action::SignOut, object, "ok").await?;
    let cookie = auth::set_cookie(state.session_cookie(), "", 0, state.secure_cookies);
    let (Some(url), Some(sso)) = (provider, sso) else {
        return Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response());
    };
    let t = staff.lang.texts();
    let name = Some(sso.config().display_name.clone()).filter(|n| !n.is_empty());
    let page = SignedOutPage {
        t,
        lang: staff.lang.code(),
        provider: name.unwrap_or_else(|| t.sso_default_name.to_string()),
        url,
    };
    Ok(([(header::SET_COOKIE, cookie)], page).into_response())
}

pub async fn language(State(state): State<AppState>, headers: HeaderMap, Path(code): Path<String>) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::Nb);
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()));
    // A choice of language, not a secret: readable by the page, kept for a year.
    let mut cookie = auth::cookie_for(LANG_COOKIE, lang.code(), 31_536_000, state.secure_cookies);
    cookie.set_http_only(false);
    let cookie = cookie.to_string();
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
