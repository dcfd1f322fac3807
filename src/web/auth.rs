//! Sign-in: argon2id password hashes (sign-in at the OpenID provider is in `sso`), server-side sessions behind an HttpOnly SameSite=Lax cookie
//! (Secure over TLS) with an idle and an absolute timeout, a fresh session id at every sign-in (no
//! fixation), CSRF tokens on every form,
//! roles and the municipality boundary. Sign-in throttling is in `limiter`.

use anyhow::Context as _;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use time::OffsetDateTime;

use super::error::{WebError, WebResult};
use super::i18n::Lang;
use super::{AppState, client};
use crate::domain::Role;
use crate::secret::{PasswordCheck, check_password, same_secret, token_hash};
use crate::store::{SessionLimits, UserRow};

/// The session cookie's name over plain HTTP; see [`session_cookie`].
pub const SESSION_COOKIE: &str = "rd_session";
/// The sign-in form's token cookie's name over plain HTTP; see [`login_cookie`].
pub const LOGIN_COOKIE: &str = "rd_login";
pub const LANG_COOKIE: &str = "rd_lang";
/// Binds a sign-in at the OpenID provider to the browser that began it (sent to `/auth/…` only).
pub const SSO_COOKIE: &str = "rd_sso";
/// A session ends 12 hours after sign-in, or after 2 hours unused, whichever comes first.
pub const SESSIONS: SessionLimits = SessionLimits {
    absolute: time::Duration::hours(12),
    idle: time::Duration::hours(2),
    touch_every: time::Duration::minutes(1),
};
/// How long an API token works unless `routedesk user token --days N` says otherwise.
pub const API_TOKEN_DAYS: i64 = 90;

/// The value of the request's cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_string())
}

/// The session cookie's name. `Secure` cookies carry the `__Host-` prefix: a browser then keeps
/// only one set by this host over HTTPS for the whole site, so neither a neighbouring subdomain nor
/// a plain-HTTP answer can plant or shadow it. Browsers refuse the prefix without `Secure`, so
/// plain HTTP keeps the plain name.
pub fn session_cookie(secure: bool) -> &'static str {
    if secure { "__Host-rd_session" } else { SESSION_COOKIE }
}

/// The sign-in form's token cookie's name, prefixed as [`session_cookie`]'s is.
pub fn login_cookie(secure: bool) -> &'static str {
    if secure { "__Host-rd_login" } else { LOGIN_COOKIE }
}

/// A cookie for the whole site, never readable by scripts, not sent on cross-site requests other
/// than top-level navigation, `Secure` over TLS; `max_age` 0 removes it. Callers narrow it further.
pub fn cookie_for(name: &str, value: &str, max_age: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((name.to_string(), value.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age))
        .secure(secure)
        .build()
}

/// The `Set-Cookie` value of [`cookie_for`].
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    cookie_for(name, value, max_age, secure).to_string()
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE).and_then(|c| Lang::parse(&c)).unwrap_or(Lang::Nb)
}

/// How a user appears in the audit trail and the audit log: `kari (helpdesk)`.
pub fn actor(user: &UserRow) -> String {
    format!("{} ({})", user.username, user.role)
}

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user: UserRow,
    pub csrf: String,
    pub lang: Lang,
    pub session: String,
    /// The alerts that hold, for the banner (helpdesk and admins: they run the service).
    pub alerts: Vec<crate::store::ActiveAlert>,
    /// The client's address (behind trusted proxies, the one they name), for the audit log.
    pub address: Option<IpAddr>,
}

impl Staff {
    /// How this user appears in the audit trail: `kari (helpdesk)`.
    pub fn actor(&self) -> String {
        actor(&self.user)
    }

    /// For pages that span municipalities (mail set aside, incidents): helpdesk and admins only;
    /// a municipal user gets "not found".
    pub fn require_regional(&self) -> WebResult<()> {
        if self.scope().is_some() { Err(WebError::NotFound) } else { Ok(()) }
    }

    /// A municipal user's municipality: all they may see. `None` for helpdesk and admin.
    pub fn scope(&self) -> Option<String> {
        (self.user.role == Role::Municipal).then(|| self.user.municipality.clone().unwrap_or_default())
    }

    /// Whether a ticket of `municipality` is visible to this user.
    pub fn can_see(&self, municipality: Option<&str>) -> bool {
        match self.scope() {
            None => true,
            Some(own) => municipality == Some(own.as_str()),
        }
    }

    pub fn check_csrf(&self, token: &str) -> WebResult<()> {
        if same_secret(token, &self.csrf) { Ok(()) } else { Err(WebError::Forbidden) }
    }
}

/// Unauthenticated page requests are sent to the sign-in page.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", urlencode(&self.0))).into_response()
    }
}

/// A value for a query string or a `next` path: everything but unreserved characters and `/`
/// is percent-encoded.
pub fn urlencode(s: &str) -> String {
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    utf8_percent_encode(s, KEEP).to_string()
}

/// The signed-in staff member of a request from `peer`, if its session cookie is live.
pub async fn staff_from(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    state: &AppState,
) -> Result<Option<Staff>, WebError> {
    let Some(token) = cookie(headers, state.session_cookie()) else { return Ok(None) };
    let hash = token_hash(&token);
    let found = state.desk.store().session(&hash, OffsetDateTime::now_utc(), SESSIONS).await?;
    let address = peer.map(|p| client::address(p, headers, &state.trusted_proxies));
    Ok(found.map(|(user, csrf)| {
        let alerts = if user.role == Role::Municipal { Vec::new() } else { state.alerts.current() };
        Staff { user, csrf, lang: lang_of(headers), session: hash, address, alerts }
    }))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await.ok().map(|c| c.0.ip());
        match staff_from(&parts.headers, peer, state).await {
            Ok(Some(s)) => Ok(s),
            Ok(None) => {
                let next = parts.uri.path_and_query().map_or("/tickets", |p| p.as_str());
                Err(SignInFirst(next.to_string()).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Checks a password off the async executor. A right password whose stored hash is weaker than
/// today's gets today's hash in its place.
pub async fn check_login(state: &AppState, username: &str, password: &str) -> WebResult<Option<UserRow>> {
    // An account of the provider's has no password: it is refused like an unknown one.
    let user = state.desk.store().user_by_name(username).await?.filter(|u| u.sso_subject.is_none());
    // An unknown user costs the same time as a wrong password, so names cannot be probed.
    let phc = user.as_ref().map_or_else(|| DUMMY_HASH.to_string(), |u| u.password_hash.clone());
    let check = check_off_executor(password.to_string(), phc.clone()).await?;
    let Some(user) = user.filter(|u| check != PasswordCheck::Wrong && !u.disabled) else { return Ok(None) };
    if let PasswordCheck::RightUpgraded(new) = check
        && state.desk.store().upgrade_password_hash(user.id, &phc, &new).await?
    {
        tracing::info!(user = %user.username, "password hash upgraded to today's parameters");
    }
    Ok(Some(user))
}

/// [`check_password`] on the blocking pool: argon2 takes tens of milliseconds by design, and on an
/// executor thread it would hold up every request served there meanwhile.
pub async fn check_off_executor(password: String, phc: String) -> anyhow::Result<PasswordCheck> {
    tokio::task::spawn_blocking(move || check_password(&password, &phc)).await.context("password check")
}

/// A valid argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7yU0iG5mbT8M3b0l2XyWq7Yv3gUqQdE1ZxKkqJ9mM1s";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_hash_is_a_well_formed_argon2id_hash() {
        // A malformed one would fail before hashing, and answer faster for unknown users.
        let parsed = argon2::PasswordHash::new(DUMMY_HASH).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(!crate::secret::verify_password("anything", DUMMY_HASH));
    }

    /// Test-plan 40: on a runtime of one thread, another task keeps running while a password is
    /// checked — which it could not if the check held the executor.
    #[tokio::test(flavor = "current_thread")]
    async fn other_tasks_go_on_while_a_password_is_checked() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicU32, Ordering};
        let phc = crate::secret::hash_password("correct horse battery").expect("hash");
        let ticks = Arc::new(AtomicU32::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    ticks.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let check = check_off_executor("correct horse battery".into(), phc).await.expect("checked");
        let during = ticks.load(Ordering::Relaxed);
        ticker.abort();
        assert_eq!(check, PasswordCheck::Right);
        assert!(during >= 2, "the other task ticked {during} times while the password was checked");
    }
}
