//! Staff sign-in at the OpenID provider, through the router without a browser: the real provider on
//! loopback (`scripts/oidc`), its sign-in form driven over HTTP. Accounts made and kept up to date
//! from the role claim, refusals (no role, a name another account has, a disabled account), the
//! answer's `state`, `nonce` and `iss`, ID tokens that are forged, signed with the client secret,
//! unsigned, expired, for another audience or from another issuer (real tokens, changed, and where
//! only one claim is to be wrong signed again with the provider's own key), break-glass password
//! sign-in, sign-out at the provider, and a provider that is down at start.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use openidconnect::{IssuerUrl, JsonWebKeySet, TokenUrl};
use routedesk::config::{OidcConfig, WebConfig};
use routedesk::http::OAuthHttp;
use routedesk::store::AuditRow;
use routedesk::web::auth::{SESSION_COOKIE, SSO_COOKIE};
use routedesk::web::i18n::NB;
use routedesk::web::sso::{Metadata, Sso};
use serde_json::{Value, json};

use super::{App, Session, location, set_cookie, text};
use crate::service::on_both_databases;
use crate::support::oidc::{self, ADMIN, HELPDESK, KARI, NOBODY};
use crate::support::{Db, eventually};
use routedesk::domain::Role;

/// Where routedesk is said to listen: the provider sends the browser here (any loopback port is
/// allowed), and the tests bring the answer to the router.
const BASE: &str = "http://127.0.0.1:8080";

on_both_databases!(
    the_first_sign_in_makes_an_sso_account_and_later_ones_follow_the_role_claim,
    a_person_without_a_mapped_group_or_with_a_taken_name_is_refused,
    forged_expired_and_misaddressed_id_tokens_are_refused,
    a_wrong_state_nonce_or_issuer_is_refused,
    passwords_open_only_break_glass_accounts_when_password_login_is_off,
    signing_out_ends_the_session_and_goes_on_to_the_providers_end_session,
);

async fn app(db: Db, change: impl FnOnce(&mut OidcConfig)) -> App {
    let mut cfg = oidc::ensure().config(BASE);
    change(&mut cfg);
    let app = App::with_web(db, &WebConfig { oidc: Some(cfg), ..WebConfig::default() }).await;
    sso(&app).discover().await.expect("the provider's configuration is read");
    app
}

fn sso(app: &App) -> &Sso {
    app.state.sso.as_deref().expect("sign-in at the provider is set up")
}

/// A sign-in begun at routedesk: the provider's URL, and the browser's cookie.
struct Begun {
    url: String,
    cookie: String,
}

impl Begun {
    fn param(&self, name: &str) -> String {
        let url = reqwest::Url::parse(&self.url).expect("URL");
        url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
    }
}

async fn begin(app: &App) -> Begun {
    begin_at(app, &oidc::ensure().issuer).await
}

/// A sign-in begun at routedesk, sent to the provider at `issuer`.
async fn begin_at(app: &App, issuer: &str) -> Begun {
    let res = app.get("/auth/login?next=%2Fdashboard", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", text(res).await);
    let url = location(&res);
    assert!(url.starts_with(&format!("{issuer}/auth?")), "sent to the provider: {url}");
    let cookie = set_cookie(&res, SSO_COOKIE).expect("the browser's sign-in cookie");
    let all: Vec<_> = res.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
    let sso_cookie = all.iter().find(|c| c.starts_with(SSO_COOKIE)).expect("cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/auth", "Max-Age=600"] {
        assert!(sso_cookie.contains(attr), "{attr} in {sso_cookie}");
    }
    Begun { url, cookie }
}

/// Brings the provider's answer (its redirect back to routedesk) to the router.
async fn answer(app: &App, back: &str, cookie: Option<&str>) -> Response<Body> {
    let path = back.strip_prefix(BASE).unwrap_or_else(|| panic!("back at routedesk: {back}"));
    assert!(path.starts_with("/auth/callback?"), "{path}");
    let mut req = Request::get(path).header(header::HOST, "localhost");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, format!("{SSO_COOKIE}={c}"));
    }
    app.send(req.body(Body::empty()).expect("request")).await
}

/// The whole sign-in of `email`: begun at routedesk, signed in at the provider, back.
async fn sign_in(app: &App, email: &str) -> Response<Body> {
    let b = begin(app).await;
    let back = oidc::ensure().sign_in(&b.url, email).await;
    answer(app, &back, Some(&b.cookie)).await
}

/// A sign-in that worked: it goes on where it was asked to, with a session.
async fn signed_in(app: &App, res: Response<Body>) -> Session {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in: {}", text(res).await);
    assert_eq!(location(&res), "/dashboard");
    app.session(set_cookie(&res, SESSION_COOKIE).expect("a session")).await
}

/// The newest audit entry of `action`.
async fn last(app: &App, action: &str) -> AuditRow {
    let rows = app.state.desk.store().audit_recent(50).await.expect("audit log");
    rows.into_iter().find(|r| r.action == action).unwrap_or_else(|| panic!("no {action} in the audit log"))
}

/// A refused sign-in: the sign-in page with `text`, no session, and the audit entry.
async fn refused(app: &App, res: Response<Body>, page_text: &str, result: &str, check: &str) {
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&res, SESSION_COOKIE).is_none(), "no session");
    let page = text(res).await;
    assert!(page.contains(page_text), "{page_text:?} on:\n{page}");
    assert!(page.contains("Logg inn med Testregionen"), "the way to try again");
    let row = last(app, "sso-sign-in").await;
    assert_eq!((row.result.as_str(), row.object.as_str()), (result, check), "{row:?}");
}

async fn users(app: &App) -> Vec<routedesk::store::UserRow> {
    app.state.desk.store().users().await.expect("users")
}

async fn the_first_sign_in_makes_an_sso_account_and_later_ones_follow_the_role_claim(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |_| {}).await;
    let page = text(app.get("/login?next=%2Fdashboard", None).await).await;
    assert!(page.contains("href=\"/auth/login?next=/dashboard\">Logg inn med Testregionen</a>"), "{page}");
    assert!(page.contains("name=\"password\""), "passwords still work unless turned off");

    let kari = signed_in(&app, sign_in(&app, KARI).await).await;
    let user = app.state.desk.store().user_by_name(KARI).await.expect("q").expect("the account was made");
    assert_eq!((user.role.as_str(), user.municipality.as_deref()), ("municipal", Some("gjovik")));
    assert_eq!(user.name, "Kari Nordmann");
    assert!(user.sso_subject.as_deref().is_some_and(|s| !s.is_empty() && s != KARI), "bound to the provider's sub");
    assert!(user.password_hash.is_empty(), "no password");
    let row = last(&app, "sso-sign-in").await;
    assert_eq!(
        (row.actor.as_str(), row.object.as_str(), row.result.as_str()),
        ("kari@gjovik.kommune.no (municipal)", "account-created", "ok")
    );
    let dash = app.get("/dashboard", Some(&kari)).await;
    assert_eq!(dash.status(), StatusCode::OK);
    assert!(text(dash).await.contains("Kari Nordmann · municipal (gjovik)"));
    // No password opens an account of the provider's.
    assert!(app.try_sign_in(KARI, "").await.is_err() && app.try_sign_in(KARI, super::PASSWORD).await.is_err());

    // The region moves the group to the helpdesk: the next sign-in follows, on the same account.
    let mut state = app.state.clone();
    let mut cfg = oidc::ensure().config(BASE);
    cfg.role_map[2].role = "helpdesk".into();
    cfg.role_map[2].municipality = None;
    let policy = state.desk.policy();
    state.sso = Some(Arc::new(Sso::new(&cfg, policy).expect("sso")));
    let moved = App::serving(state, app.database_url.clone());
    sso(&moved).discover().await.expect("discovery");
    signed_in(&moved, sign_in(&moved, KARI).await).await;
    let again = moved.state.desk.store().user_by_name(KARI).await.expect("q").expect("account");
    assert_eq!((again.id, again.role.as_str(), again.municipality), (user.id, "helpdesk", None));
    assert_eq!(users(&app).await.iter().filter(|u| u.sso_subject.is_some()).count(), 1, "one account");
    assert_eq!(last(&app, "sso-sign-in").await.object, "", "not made again");

    // Listed as SSO, and its password cannot be set.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_routedesk"))
            .env("ROUTEDESK_DATABASE_URL", &app.database_url)
            .env("ROUTEDESK_MAILBOX", "helpdesk@routedesk.test")
            .env("ROUTEDESK_IMAP__URL", "imaps://mail.gjovik.kommune.no")
            .env("ROUTEDESK_IMAP__USER", "helpdesk@routedesk.test")
            .env("ROUTEDESK_IMAP__PASSWORD", "x")
            .env("ROUTEDESK_SMTP__URL", "smtps://smtp.gjovik.kommune.no")
            .args(args)
            .output()
            .expect("routedesk runs")
    };
    let list = String::from_utf8_lossy(&cli(&["user", "list"]).stdout).into_owned();
    assert!(list.lines().any(|l| l == "kari@gjovik.kommune.no\thelpdesk\tKari Nordmann\tSSO"), "{list}");
    assert!(list.lines().any(|l| l == "kari\thelpdesk\tKari Helpdesk"), "{list}");
    let out = cli(&["user", "passwd", KARI]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signs in at the OpenID provider (SSO)"));
}

async fn a_person_without_a_mapped_group_or_with_a_taken_name_is_refused(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |_| {}).await;
    let before = users(&app).await.len();
    refused(&app, sign_in(&app, NOBODY).await, NB.sso_no_role, "no-role", "").await;
    assert_eq!(last(&app, "sso-sign-in").await.actor, "ingen@region.test (sso)");
    assert_eq!(users(&app).await.len(), before, "no account");

    // A password account has the address already: it is not taken over.
    app.add_user(HELPDESK, "admin", None).await;
    refused(&app, sign_in(&app, HELPDESK).await, NB.sso_name_taken, "name-taken", "").await;
    let user = app.state.desk.store().user_by_name(HELPDESK).await.expect("q").expect("user");
    assert!(user.sso_subject.is_none() && user.role == Role::Admin, "untouched: {user:?}");

    // An account disabled in routedesk stays out, whatever the provider says.
    let admin = signed_in(&app, sign_in(&app, ADMIN).await).await;
    assert!(app.state.desk.store().set_disabled(ADMIN, true).await.expect("disable"));
    refused(&app, sign_in(&app, ADMIN).await, NB.sso_disabled, "disabled", "").await;
    assert_eq!(app.get("/tickets", Some(&admin)).await.status(), StatusCode::SEE_OTHER, "its session is gone");

    // The group taken away: the next sign-in is refused and the account's sessions end.
    let state = app.state.clone();
    let kari = signed_in(&app, sign_in(&app, KARI).await).await;
    let mut cfg = oidc::ensure().config(BASE);
    cfg.role_map.retain(|m| m.value != "rd-municipal-gjovik");
    let mut without = state.clone();
    without.sso = Some(Arc::new(Sso::new(&cfg, state.desk.policy()).expect("sso")));
    let without = App::serving(without, app.database_url.clone());
    sso(&without).discover().await.expect("discovery");
    refused(&without, sign_in(&without, KARI).await, NB.sso_no_role, "no-role", "").await;
    assert_eq!(app.get("/tickets", Some(&kari)).await.status(), StatusCode::SEE_OTHER, "signed out everywhere");
}

/// Hands routedesk the provider's ID tokens changed by `change`, through a token endpoint in front
/// of the provider's.
async fn through_front(app: &App, change: impl Fn(&str) -> String + Send + Sync + 'static) {
    let p = oidc::ensure();
    let http = OAuthHttp(routedesk::http::client().expect("client"));
    let md = Metadata::discover_async(IssuerUrl::new(p.issuer.clone()).expect("issuer"), &http).await.expect("md");
    let real = md.token_endpoint().expect("a token endpoint").to_string();
    let front = oidc::token_front(real, Arc::new(change)).await;
    sso(app).install(md.set_token_endpoint(Some(TokenUrl::new(front).expect("url")))).expect("installs");
}

/// What the front does to an ID token.
type Change = Box<dyn Fn(&str) -> String + Send + Sync>;

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn forged_expired_and_misaddressed_id_tokens_are_refused(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |_| {}).await;
    let signer = Arc::new(oidc::ensure().signer().await);

    // As it comes, through the front: taken (so what follows fails for its change alone).
    through_front(&app, |t| t.to_string()).await;
    signed_in(&app, sign_in(&app, KARI).await).await;
    // Signed again with the provider's key and nothing changed: taken too.
    let s = signer.clone();
    through_front(&app, move |t| s.resign(t, |_| {})).await;
    signed_in(&app, sign_in(&app, KARI).await).await;
    // Keys rotated since they were read: read again, and the sign-in goes through.
    let http = OAuthHttp(routedesk::http::client().expect("client"));
    let issuer = IssuerUrl::new(oidc::ensure().issuer.clone()).expect("issuer");
    let md = Metadata::discover_async(issuer, &http).await.expect("md");
    sso(&app).install(md.set_jwks(JsonWebKeySet::new(Vec::new()))).expect("installs");
    signed_in(&app, sign_in(&app, KARI).await).await;

    let cases: Vec<(&str, Change)> = vec![
        // Kari makes herself an admin: the signature no longer fits.
        ("signature", Box::new(|t: &str| oidc::forge(t, |c| drop(c.insert("groups".into(), json!(["rd-admins"])))))),
        // Signed with the client secret (HS256), as anyone who had it could.
        ("signature", Box::new(|t: &str| oidc::hs256(t, &oidc::ensure().client_secret))),
        ("signature", Box::new(|t: &str| oidc::unsigned(t))),
        ("expired", {
            let s = signer.clone();
            Box::new(move |t: &str| {
                s.resign(t, |c| {
                    c.insert("exp".into(), json!(now() - 60));
                    c.insert("iat".into(), json!(now() - 3660));
                })
            })
        }),
        ("audience", {
            let s = signer.clone();
            Box::new(move |t: &str| s.resign(t, |c| drop(c.insert("aud".into(), json!("another-app")))))
        }),
        ("issuer", {
            let s = signer.clone();
            Box::new(move |t: &str| s.resign(t, |c| drop(c.insert("iss".into(), json!("http://127.0.0.1:9401")))))
        }),
        ("nonce", {
            let s = signer.clone();
            Box::new(move |t: &str| s.resign(t, |c| drop(c.insert("nonce".into(), json!("another-sign-in")))))
        }),
    ];
    for (check, change) in cases {
        through_front(&app, change).await;
        refused(&app, sign_in(&app, KARI).await, NB.sso_failed, "bad-token", check).await;
    }
    let kari = app.state.desk.store().user_by_name(KARI).await.expect("q").expect("account");
    assert_eq!(kari.role, Role::Municipal, "no forged token made anyone an admin");
    assert!(app.state.desk.store().user_by_name(ADMIN).await.expect("q").is_none());
}

async fn a_wrong_state_nonce_or_issuer_is_refused(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |_| {}).await;
    let p = oidc::ensure();

    // Another state than the one this sign-in began with.
    let b = begin(&app).await;
    let back = p.sign_in(&b.url, KARI).await;
    let state = b.param("state");
    let other = back.replace(&format!("state={state}"), "state=cHJvYmFibHktbm90LXRoZS1zdGF0ZQ");
    assert_ne!(other, back);
    refused(&app, answer(&app, &other, Some(&b.cookie)).await, NB.sso_failed, "bad-state", "state").await;
    // The right state from another browser (no cookie, or another one): refused, and used up.
    refused(&app, answer(&app, &back, None).await, NB.sso_failed, "bad-state", "state").await;
    refused(&app, answer(&app, &back, Some(&b.cookie)).await, NB.sso_failed, "bad-state", "state").await;

    // A sign-in that worked cannot be replayed.
    let b = begin(&app).await;
    let back = p.sign_in(&b.url, KARI).await;
    signed_in(&app, answer(&app, &back, Some(&b.cookie)).await).await;
    refused(&app, answer(&app, &back, Some(&b.cookie)).await, NB.sso_failed, "bad-state", "state").await;
    let b2 = begin(&app).await;
    refused(&app, answer(&app, &back, Some(&b2.cookie)).await, NB.sso_failed, "bad-state", "state").await;

    // The provider asked with another nonce: its real, signed ID token carries that one.
    let b = begin(&app).await;
    let nonce = b.param("nonce");
    assert!(nonce.len() >= 16, "a random nonce: {nonce}");
    let url = b.url.replace(&format!("nonce={nonce}"), "nonce=another-sign-in-altogether");
    let back = p.sign_in(&url, KARI).await;
    refused(&app, answer(&app, &back, Some(&b.cookie)).await, NB.sso_failed, "bad-token", "nonce").await;

    // An answer that names another issuer (RFC 9207).
    let b = begin(&app).await;
    let back = p.sign_in(&b.url, KARI).await;
    assert!(back.contains("iss="), "the provider names itself: {back}");
    let elsewhere = reqwest::Url::parse_with_params(
        &format!("{BASE}/auth/callback"),
        reqwest::Url::parse(&back)
            .expect("url")
            .query_pairs()
            .map(|(k, v)| (k.to_string(), if k == "iss" { "https://evil.example".into() } else { v.into_owned() })),
    )
    .expect("url");
    refused(&app, answer(&app, elsewhere.as_str(), Some(&b.cookie)).await, NB.sso_failed, "bad-issuer", "iss").await;

    // Cancelled at the provider.
    let b = begin(&app).await;
    let cancelled = format!("{BASE}/auth/callback?error=access_denied&state={}", b.param("state"));
    refused(&app, answer(&app, &cancelled, Some(&b.cookie)).await, NB.sso_cancelled, "cancelled", "").await;
    // PKCE: the provider was asked with routedesk's challenge.
    assert_eq!(b.param("code_challenge_method"), "S256");
    assert_eq!(b.param("scope"), "openid email profile");
}

async fn passwords_open_only_break_glass_accounts_when_password_login_is_off(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |c| c.password_login = false).await;
    app.add_user("nød", "admin", None).await;
    assert!(app.state.desk.store().set_break_glass("nød", true).await.expect("mark"));

    let page = text(app.get("/login", None).await).await;
    assert!(page.contains("Logg inn med Testregionen"), "{page}");
    assert!(!page.contains("name=\"password\""), "no password form: {page}");
    assert!(page.contains(&format!("href=\"/login?password=1\">{}</a>", NB.break_glass_link)), "{page}");
    let page = text(app.get("/login?password=1", None).await).await;
    assert!(page.contains("name=\"password\"") && page.contains(NB.password_break_glass), "{page}");

    // The right password of an ordinary account is refused like a wrong one.
    let res = app.try_sign_in("kari", super::PASSWORD).await.expect_err("refused");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(text(res).await.contains(NB.login_wrong));
    assert_eq!(last(&app, "sign-in").await.result, "not-break-glass");
    // The break-glass account gets in; so does everyone at the provider.
    let nod = app.try_sign_in("nød", super::PASSWORD).await.expect("break-glass sign-in");
    assert_eq!(app.get("/audit", Some(&nod)).await.status(), StatusCode::OK);
    signed_in(&app, sign_in(&app, HELPDESK).await).await;
}

async fn signing_out_ends_the_session_and_goes_on_to_the_providers_end_session(db: Db) {
    crate::support::level::needs!(Oidc);
    let app = app(db, |_| {}).await;
    let p = oidc::ensure();
    let mut browser = oidc::Agent::new(&p.issuer);
    let b = begin(&app).await;
    let back = browser.sign_in(&b.url, HELPDESK, &p.password).await;
    let hege = signed_in(&app, answer(&app, &back, Some(&b.cookie)).await).await;

    let res = app.post("/logout", Some(&hege), &[("csrf", &hege.csrf)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    let escaped = page
        .split("id=\"end-session\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the provider's sign-out");
    assert!(page.contains(&format!("content=\"0;url={escaped}\"")), "forwarded: {page}");
    let url = escaped.replace("&#38;", "&").replace("&amp;", "&");
    assert!(page.contains(NB.signed_out), "{page}");
    let parsed = reqwest::Url::parse(&url).expect("url");
    assert!(url.starts_with(&format!("{}/session/end?", p.issuer)), "{url}");
    let param = |n: &str| parsed.query_pairs().find(|(k, _)| k == n).map(|(_, v)| v.into_owned());
    assert_eq!(param("post_logout_redirect_uri").as_deref(), Some("http://127.0.0.1:8080/login"));
    assert_eq!(param("client_id"), Some(p.client_id.clone()));
    let hint = param("id_token_hint").expect("id_token_hint");
    assert_eq!(oidc::parts(&hint).1["email"], Value::from(HELPDESK), "the ID token of this session");
    assert_eq!(app.get("/tickets", Some(&hege)).await.status(), StatusCode::SEE_OTHER, "the session is gone");
    let row = last(&app, "sign-out").await;
    assert_eq!((row.actor.as_str(), row.object.as_str()), ("helpdesk@region.test (helpdesk)", "provider"));

    // The provider takes it: its sign-out page, no error.
    let (status, _, body) = browser.request(&url, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("id=\"error\""), "{body}");

    // A password session signs out at routedesk only.
    let kari = app.sign_in("kari").await;
    let res = app.post("/logout", Some(&kari), &[("csrf", &kari.csrf)]).await;
    assert_eq!((res.status(), location(&res).as_str()), (StatusCode::SEE_OTHER, "/login"));
    assert_eq!(last(&app, "sign-out").await.object, "");
}

/// The provider is down when routedesk starts: sign-in shows a clear page (never a panic) while
/// discovery is retried with backoff, and works once the provider answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_is_down_at_start_is_waited_for() {
    crate::support::level::needs!(Oidc);
    let p = oidc::ensure();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let issuer = format!("http://127.0.0.1:{port}");
    let mut cfg = p.config(BASE);
    cfg.issuer = issuer.clone();
    let app = App::with_web(Db::Sqlite, &WebConfig { oidc: Some(cfg), ..WebConfig::default() }).await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(app.state.sso.clone().expect("sso").keep_discovered(rx));

    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app.get("/auth/login", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("30"));
    let page = text(res).await;
    assert!(page.contains(NB.sso_unavailable) && page.contains("name=\"password\""), "{page}");
    let res = answer(&app, &format!("{BASE}/auth/callback?code=x&state=y"), None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "an answer to nothing is refused");

    // The provider comes up (a second instance of its own, on that port).
    let dir = std::env::temp_dir().join(crate::support::unique("routedesk-oidc-late-"));
    let env = [("OIDC_PORT", port.to_string()), ("OIDC_STATE_DIR", dir.display().to_string())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    oidc::run(&["start"], &env);
    let sso = app.state.sso.clone().expect("sso");
    eventually("discovery after the provider came up", Duration::from_secs(40), || {
        let sso = sso.clone();
        async move { sso.ready().then_some(()) }
    })
    .await;
    let b = begin_at(&app, &issuer).await;
    let mut browser = oidc::Agent::new(&issuer);
    let back = browser.sign_in(&b.url, KARI, &p.password).await;
    let res = answer(&app, &back, Some(&b.cookie)).await;
    oidc::run(&["stop"], &env);
    let _ = stop.send(true);
    signed_in(&app, res).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_oidc_the_sign_in_routes_are_not_there() {
    let app = App::new(Db::Sqlite).await;
    assert_eq!(app.get("/auth/login", None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/auth/callback?code=x&state=y", None).await.status(), StatusCode::NOT_FOUND);
    let page = text(app.get("/login", None).await).await;
    assert!(!page.contains("/auth/login") && !page.contains(NB.break_glass_link));
}
