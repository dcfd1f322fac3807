//! Who may see and do what: sign-in, sessions, CSRF, the municipality boundary, security headers.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use routedesk::config::{Secret, WebConfig};
use tower::ServiceExt as _;

use super::{App, PASSWORD, location, set_cookie, text};
use crate::service::on_both_databases;
use crate::support::Db;

const PAGES: &[&str] =
    &["/tickets", "/tickets/RD-2026-000001", "/tickets/RD-2026-000001/files/1", "/mail", "/tester", "/dashboard"];

on_both_databases!(
    nothing_is_shown_without_signing_in,
    sign_in_gives_a_fresh_http_only_session_and_sign_out_ends_it,
    a_guesser_is_slowed_but_the_rightful_user_still_signs_in,
    a_forged_forwarded_for_does_not_reset_the_limit,
    failed_sign_ins_log_a_fingerprint_of_the_name_not_the_name,
    forms_need_the_session_token_and_our_origin,
    a_municipal_user_sees_only_their_municipality,
    every_response_carries_the_security_headers,
    the_api_takes_a_bearer_token,
    metrics_and_readiness_ask_for_the_token_when_one_is_set,
    browsers_are_told_to_keep_to_https_when_served_over_it,
    over_https_the_cookies_are_host_only_and_secure,
    readiness_warns_while_no_sender_can_be_verified,
);

async fn nothing_is_shown_without_signing_in(db: Db) {
    let app = App::new(db).await;
    app.ingest(&["01-gjovik-lonn-complete.eml"]).await;
    for path in PAGES {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&res).starts_with("/login?next="), "{path} → {}", location(&res));
    }
    for path in ["/api/tickets", "/api/tickets/RD-2026-000001"] {
        assert_eq!(app.get(path, None).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let res = app.post("/tickets/RD-2026-000001/note", None, &[("csrf", "x"), ("text", "hi")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a post without a session goes to sign-in");
    // A forged cookie is no session.
    let forged = super::Session { cookie: "0".repeat(64), csrf: String::new() };
    assert_eq!(app.get("/tickets", Some(&forged)).await.status(), StatusCode::SEE_OTHER);
    // Open endpoints.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::SERVICE_UNAVAILABLE, "IMAP is not connected here");
    let metrics = text(app.get("/metrics", None).await).await;
    assert!(metrics.contains("routedesk_outbox_queued"), "{metrics}");
    // The pool's own count of its connections: this page's query held one.
    let open: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("routedesk_db_connections "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("the pool's connections in {metrics}"));
    assert!(open >= 1.0, "{metrics}");
    assert!(metrics.contains("routedesk_db_connections_idle "), "{metrics}");
}

async fn sign_in_gives_a_fresh_http_only_session_and_sign_out_ends_it(db: Db) {
    let app = App::new(db).await;
    let wrong = app.try_sign_in("kari", "not the password").await.expect_err("wrong password");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(text(wrong).await.contains("Feil brukernavn eller passord"));

    let form = app.get("/login", None).await;
    let token = set_cookie(&form, routedesk::web::auth::LOGIN_COOKIE).expect("token");
    let req = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("rd_login={token}; rd_session=attacker-chosen-id"))
        .body(Body::from(format!(
            "username=kari&password={}&csrf={token}&next=%2F%2Fevil.example",
            PASSWORD.replace(' ', "+")
        )))
        .expect("request");
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/tickets", "no open redirect to another site");
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("rd_session="))
        .expect("session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("attacker-chosen-id"), "the session id is ours, not the one presented");

    let a = app.sign_in("kari").await;
    let b = app.sign_in("kari").await;
    assert_ne!(a.cookie, b.cookie, "every sign-in gets a new session id");
    assert_eq!(app.get("/tickets", Some(&a)).await.status(), StatusCode::OK);
    let out = app.post("/logout", Some(&a), &[("csrf", &a.csrf)]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/tickets", Some(&a)).await.status(),
        StatusCode::SEE_OTHER,
        "the session is gone on the server"
    );
    assert_eq!(app.get("/tickets", Some(&b)).await.status(), StatusCode::OK, "other sessions are unaffected");

    // A disabled account cannot sign in and loses its sessions.
    app.state.desk.store().set_disabled("kari", true).await.expect("disable");
    assert_eq!(app.get("/tickets", Some(&b)).await.status(), StatusCode::SEE_OTHER);
    assert!(app.try_sign_in("kari", PASSWORD).await.is_err());
}

/// Test-plan 39: a guesser is slowed, the rightful user is not locked out.
async fn a_guesser_is_slowed_but_the_rightful_user_still_signs_in(db: Db) {
    let web = WebConfig { trusted_proxies: vec!["127.0.0.1".into()], ..WebConfig::default() };
    let app = App::with_web(db, &web).await;
    let (guesser, rightful) = (Some("203.0.113.66"), Some("198.51.100.7"));
    for _ in 0..5 {
        let wrong = app.try_sign_in_from(guesser, "kari", "guess").await.expect_err("wrong");
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let slowed = app.try_sign_in_from(guesser, "kari", "guess").await.expect_err("slowed");
    assert_eq!(slowed.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = slowed
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&wait), "a delay, not a lock: {wait} s");
    assert!(text(slowed).await.contains("For mange forsøk"), "a clear page");
    // Spaces and capitals give the guesser no fresh tries.
    for variant in [" kari", "KARI", "Kari "] {
        let res = app.try_sign_in_from(guesser, variant, "guess").await.expect_err("slowed");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{variant:?}");
    }
    // Every failure is in the audit log: one row per wrong password, one per refused attempt.
    let audit = app.state.desk.store().audit_recent(1000).await.expect("audit log");
    let rows = |result: &str| {
        audit.iter().filter(|r| r.action == "sign-in" && r.result == result && r.address.as_deref() == guesser).count()
    };
    assert_eq!((rows("failed"), rows("throttled")), (5, 4), "{audit:?}");
    assert!(audit.iter().all(|r| !r.actor.contains("kari") && !r.object.contains("guess")), "{audit:?}");
    assert!(
        app.try_sign_in_from(rightful, "kari", PASSWORD).await.is_ok(),
        "the rightful user, at another address, signs in at once"
    );
    assert!(app.try_sign_in_from(guesser, "admin", PASSWORD).await.is_ok(), "other accounts still work");
}

/// Test-plan 39: `X-Forwarded-For` from a peer that is no trusted proxy resets nothing.
async fn a_forged_forwarded_for_does_not_reset_the_limit(db: Db) {
    let app = App::new(db).await;
    for i in 0..5 {
        let forged = format!("192.0.2.{i}");
        let res = app.try_sign_in_from(Some(&forged), "kari", "guess").await.expect_err("wrong");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.try_sign_in_from(Some("192.0.2.200"), "kari", "guess").await.expect_err("slowed");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the made-up addresses were ignored");
}

/// A mistyped name is sometimes a password: the log holds a fingerprint of it, not the name.
async fn failed_sign_ins_log_a_fingerprint_of_the_name_not_the_name(db: Db) {
    let app = App::new(db).await;
    let log = crate::support::CapturedLog::default();
    let _guard = log.install();
    let typed = "Sommer2026!kari";
    let res = app.try_sign_in(typed, "whatever").await.expect_err("no such user");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let written = log.text();
    assert!(written.contains("sign-in failed"), "{written}");
    assert!(!written.contains(typed) && !written.contains("Sommer2026"), "{written}");
    assert!(written.contains(&routedesk::web::limiter::fingerprint(typed)), "{written}");
}

async fn forms_need_the_session_token_and_our_origin(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    assert_eq!(s.csrf.len(), 64, "pages carry the form token");
    let path = format!("/tickets/{n}/note");
    for token in ["", "wrong", &"0".repeat(64)] {
        let res = app.post(&path, Some(&s), &[("csrf", token), ("text", "x")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "token {token:?}");
    }
    let cross = Request::post(&path)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("rd_session={}", s.cookie))
        .body(Body::from(format!("csrf={}&text=x", s.csrf)))
        .expect("request");
    assert_eq!(
        app.send(cross).await.status(),
        StatusCode::FORBIDDEN,
        "cross-site posts are refused even with the token"
    );
    let ok = app.post(&path, Some(&s), &[("csrf", &s.csrf), ("text", "Ringt melder, venter på Visma")]).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let t = app.state.desk.store().ticket_by_number(&n).await.expect("q").expect("t");
    let events = app.state.desk.store().events_of(t.id).await.expect("events");
    let note = events.iter().find(|e| e.kind == "note").expect("the note is in the audit trail");
    assert_eq!(note.detail, "Ringt melder, venter på Visma");
    assert_eq!(note.actor, "kari (helpdesk)");
}

async fn a_municipal_user_sees_only_their_municipality(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "02-ostre-toten-faktura-complete.eml"]).await;
    let (gjovik, toten) = (&n[0], &n[1]);
    let ola = app.sign_in("ola").await;
    let log = text(app.get("/tickets", Some(&ola)).await).await;
    assert!(log.contains(toten.as_str()) && !log.contains(gjovik.as_str()), "the log shows only Østre Toten");
    let log = text(app.get("/tickets?municipality=gjovik", Some(&ola)).await).await;
    assert!(!log.contains(gjovik.as_str()), "a filter cannot widen the scope");
    assert_eq!(app.get(&format!("/tickets/{toten}"), Some(&ola)).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/tickets/{gjovik}"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    let g = app.state.desk.store().ticket_by_number(gjovik).await.expect("q").expect("t");
    let file = app.state.desk.store().attachments_of(g.id).await.expect("files").remove(0);
    assert_eq!(
        app.get(&format!("/tickets/{gjovik}/files/{}?inline=1", file.id), Some(&ola)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/tickets/{gjovik}/files/{}/thumbnail", file.id), Some(&ola)).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/tickets/{toten}/files/{}", file.id), Some(&ola)).await.status(),
        StatusCode::NOT_FOUND,
        "a file id of another ticket is not found through one's own"
    );
    let res = app.post(&format!("/tickets/{gjovik}/note"), Some(&ola), &[("csrf", &ola.csrf), ("text", "x")]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no actions on others' tickets");
    assert_eq!(app.get("/mail", Some(&ola)).await.status(), StatusCode::NOT_FOUND, "mail set aside is the helpdesk's");
    let api = text(app.get("/api/tickets", Some(&ola)).await).await;
    assert!(api.contains(toten.as_str()) && !api.contains(gjovik.as_str()), "{api}");
    assert!(
        api.contains(r#""municipality":"ostre-toten","municipality_name":"Østre Toten kommune""#),
        "the id to match on and the name to show: {api}"
    );
    assert_eq!(app.get(&format!("/api/tickets/{gjovik}"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    let kari = app.sign_in("kari").await;
    assert_eq!(
        app.get(&format!("/tickets/{gjovik}"), Some(&kari)).await.status(),
        StatusCode::OK,
        "the helpdesk sees all"
    );
}

async fn every_response_carries_the_security_headers(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    for path in [
        "/login",
        "/healthz",
        "/tickets",
        &format!("/tickets/{n}"),
        "/dashboard",
        "/tester",
        "/mail",
        "/nonexistent",
        "/api/tickets",
    ] {
        let res = app.get(path, Some(&s)).await;
        let h = res.headers();
        let csp = h.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'") || csp.contains("sandbox"), "{path}: {csp}");
        assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
        assert_eq!(h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()), Some(&b"DENY"[..]), "{path}");
    }
}

async fn the_api_takes_a_bearer_token(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "10-gjovik-citrix-henger-visma.eml"]).await;
    let token = routedesk::secret::random_token();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(90);
    app.state.desk.store().set_api_token("kari", &routedesk::secret::token_hash(&token), expires).await.expect("token");
    let call = |path: String, bearer: String| {
        let app = &app;
        async move {
            let req = Request::get(path)
                .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
                .body(Body::empty())
                .expect("req");
            app.send(req).await
        }
    };
    let res = call("/api/tickets?class=operations".into(), token.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    let numbers: Vec<&str> =
        json["tickets"].as_array().expect("list").iter().filter_map(|t| t["number"].as_str()).collect();
    assert_eq!(numbers, [n[1].as_str()]);
    let one: serde_json::Value =
        serde_json::from_str(&text(call(format!("/api/tickets/{}", n[0]), token.clone()).await).await).expect("json");
    assert_eq!(one["class"], "application");
    assert_eq!(one["route_cc"], serde_json::json!(["pureservice@gjovik.kommune.no"]));
    assert_eq!(call("/api/tickets".into(), "wrong".into()).await.status(), StatusCode::UNAUTHORIZED);
}

async fn metrics_and_readiness_ask_for_the_token_when_one_is_set(db: Db) {
    let token = "scrape-9f2c1e7a";
    let web = WebConfig { metrics_token: Secret::new(token), ..WebConfig::default() };
    let app = App::with_web(db, &web).await;
    let call = |path: &'static str, bearer: Option<&'static str>| {
        let app = &app;
        async move {
            let mut req = Request::get(path).header(header::HOST, "localhost");
            if let Some(b) = bearer {
                req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
            }
            app.send(req.body(Body::empty()).expect("request")).await
        }
    };
    for path in ["/metrics", "/readyz"] {
        for bearer in [None, Some("wrong"), Some("scrape-9f2c1e7"), Some("scrape-9f2c1e7a0")] {
            let res = call(path, bearer).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path} with {bearer:?}");
            assert!(res.headers().contains_key(header::WWW_AUTHENTICATE));
        }
    }
    let metrics = call("/metrics", Some(token)).await;
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(text(metrics).await.contains("routedesk_outbox_queued"));
    let ready = call("/readyz", Some(token)).await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE, "answers (IMAP is not connected here)");
    assert!(text(ready).await.contains("database: ok"));
    assert_eq!(call("/healthz", None).await.status(), StatusCode::OK, "liveness stays open");
}

async fn browsers_are_told_to_keep_to_https_when_served_over_it(db: Db) {
    let plain = App::new(db).await;
    let res = plain.get("/login", None).await;
    assert!(!res.headers().contains_key(header::STRICT_TRANSPORT_SECURITY), "not over plain HTTP");
    let web = WebConfig { secure_cookies: true, ..WebConfig::default() };
    let https = App::with_web(db, &web).await;
    let s = https.sign_in("kari").await;
    for path in ["/login", "/tickets", "/healthz", "/nonexistent"] {
        let res = https.get(path, Some(&s)).await;
        let hsts = res.headers().get(header::STRICT_TRANSPORT_SECURITY).and_then(|v| v.to_str().ok());
        assert_eq!(hsts, Some("max-age=31536000"), "{path}");
    }
}

/// The whole `Set-Cookie` line of cookie `name` in `res`.
fn set_cookie_line(res: &axum::http::Response<Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Signs `kari` in through the form: the `Set-Cookie` lines of the form's token cookie and of the
/// session cookie, under the names `login` and `session`.
async fn cookies_of_a_sign_in(app: &App, login: &str, session: &str) -> (String, String) {
    let form = app.get("/login", None).await;
    let login_line = set_cookie_line(&form, login).unwrap_or_else(|| panic!("{login} set by the form"));
    let token = set_cookie(&form, login).expect("token");
    let req = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{login}={token}"))
        .body(Body::from(format!("username=kari&password={}&csrf={token}", PASSWORD.replace(' ', "+"))))
        .expect("request");
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed in");
    (login_line, set_cookie_line(&res, session).unwrap_or_else(|| panic!("{session} set at sign-in")))
}

/// Test-plan 37: served over HTTPS (`secure_cookies`), the session and sign-in cookies are
/// `__Host-` cookies — `Secure`, `Path=/`, no `Domain` — so nothing else under the domain and
/// nothing over plain HTTP can plant or shadow them, and a cookie of the plain name is no session.
/// Over plain HTTP, where browsers refuse the prefix, they keep the plain names without `Secure`.
async fn over_https_the_cookies_are_host_only_and_secure(db: Db) {
    let web = WebConfig { secure_cookies: true, ..WebConfig::default() };
    let https = App::with_web(db, &web).await;
    let (login, session) = cookies_of_a_sign_in(&https, "__Host-rd_login", "__Host-rd_session").await;
    for line in [&login, &session] {
        let attributes: Vec<&str> = line.split(';').skip(1).map(str::trim).collect();
        for wanted in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(attributes.contains(&wanted), "{wanted} in {line}");
        }
        assert!(!line.to_ascii_lowercase().contains("domain="), "a __Host- cookie names no domain: {line}");
    }
    let s = https.sign_in("kari").await;
    assert_eq!(https.get("/tickets", Some(&s)).await.status(), StatusCode::OK, "the __Host- cookie is the session");
    let plain_name = Request::get("/tickets")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, format!("rd_session={}", s.cookie))
        .body(Body::empty())
        .expect("request");
    assert_eq!(https.send(plain_name).await.status(), StatusCode::SEE_OTHER, "the plain name is no session over HTTPS");

    let plain = App::new(db).await;
    let (login, session) = cookies_of_a_sign_in(&plain, "rd_login", "rd_session").await;
    for line in [&login, &session] {
        assert!(!line.split(';').any(|a| a.trim() == "Secure"), "no Secure over plain HTTP: {line}");
        assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax") && line.contains("Path=/"), "{line}");
    }
}

async fn readiness_warns_while_no_sender_can_be_verified(db: Db) {
    let app = App::new(db).await;
    let body = text(app.get("/readyz", None).await).await;
    assert!(!body.contains("warning"), "an authserv-id is trusted: {body}");
    let mut state = app.state.clone();
    let mut cfg = crate::support::desk_config(&app.database_url);
    cfg.trusted_authserv_id = String::new();
    state.desk = routedesk::desk::Desk::new(&cfg, state.desk.store().clone()).await.expect("desk");
    let res = routedesk::web::router(state)
        .oneshot(Request::get("/readyz").body(Body::empty()).expect("request"))
        .await
        .expect("answers");
    let body = text(res).await;
    assert!(body.contains("database: ok") && body.contains("no sender can be verified"), "{body}");
}
