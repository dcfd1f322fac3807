//! Staff sign-in at the OpenID provider (the local oidc-provider on loopback) in real headless
//! Chromium: `tests/e2e/sso.mjs` signs in a municipal user, the helpdesk and someone without a
//! mapped group, and signs out through the provider's end-session. Here: the accounts and the audit
//! log it leaves.

use routedesk::config::WebConfig;

use super::App;
use super::e2e::browse;
use crate::support::Db;
use crate::support::oidc::{self, HELPDESK, KARI, NOBODY};
use routedesk::domain::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_sign_in_at_the_provider_in_a_real_browser() {
    crate::support::level::needs!(Oidc, Browser);
    let p = oidc::ensure();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let app = App::with_web(Db::Sqlite, &WebConfig { oidc: Some(p.config(&base)), ..WebConfig::default() }).await;
    let numbers = app
        .ingest(&[
            "01-gjovik-lonn-complete.eml",
            "17-gjovik-glemt-passord.eml",
            "02-ostre-toten-faktura-complete.eml",
            "37-ostre-toten-mangler-telefon.eml",
        ])
        .await;
    let store = app.state.desk.store().clone();
    let (mut gjovik, mut other) = (Vec::new(), Vec::new());
    for n in numbers {
        let t = store.ticket_by_number(&n).await.expect("q").expect("a ticket");
        if t.municipality.as_deref() == Some("gjovik") { &mut gjovik } else { &mut other }.push(n);
    }
    assert!(gjovik.len() == 2 && other.len() == 2, "{gjovik:?} {other:?}");

    // Served as `routedesk serve` does: discovery in the background.
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(app.state.sso.clone().expect("sso").keep_discovered(rx.clone()));
    let server = tokio::spawn(routedesk::web::serve_on(listener, app.state.clone(), rx));
    let sso = app.state.sso.clone().expect("sso");
    crate::support::eventually("discovery", std::time::Duration::from_secs(20), || {
        let sso = sso.clone();
        async move { sso.ready().then_some(()) }
    })
    .await;
    browse(
        "sso.mjs",
        &[
            ("RD_BASE", &base),
            ("RD_ISSUER", &p.issuer),
            ("RD_PASSWORD", &p.password),
            ("RD_GJOVIK", &gjovik.join(",")),
            ("RD_OTHER", &other.join(",")),
        ],
    )
    .await;
    let _ = stop.send(true);
    server.await.expect("joins").expect("serves");

    let user = |name: &'static str| {
        let store = store.clone();
        async move { store.user_by_name(name).await.expect("q") }
    };
    let kari = user(KARI).await.expect("kari's account");
    assert_eq!((kari.role.as_str(), kari.municipality.as_deref()), ("municipal", Some("gjovik")));
    assert!(kari.sso_subject.is_some());
    assert_eq!(user(HELPDESK).await.expect("hege's account").role, Role::Helpdesk);
    assert!(user(NOBODY).await.is_none(), "no account for someone without a role");
    let audit = store.audit_recent(50).await.expect("audit");
    let has = |action: &str, actor: &str, result: &str| {
        audit.iter().any(|r| r.action == action && r.actor == actor && r.result == result)
    };
    assert!(has("sso-sign-in", "kari@gjovik.kommune.no (municipal)", "ok"), "{audit:?}");
    assert!(has("sso-sign-in", "ingen@region.test (sso)", "no-role"), "{audit:?}");
    assert!(has("sign-out", "helpdesk@region.test (helpdesk)", "ok"), "{audit:?}");
}
