//! What staff do: every action works, and is in the audit trail with who did it.

use axum::http::StatusCode;

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;
use routedesk::domain::event::detail_text;
use routedesk::domain::{OutboxKind, OutboxStatus, TicketStatus};
use routedesk::text::lang::Lang;

on_both_databases!(
    reclassify_change_municipality_and_reroute,
    resolve_reopen_link_and_release,
    a_set_aside_mail_becomes_a_ticket
);

async fn kinds(app: &App, number: &str) -> Vec<(String, String, String)> {
    let store = app.state.desk.store();
    let t = store.ticket_by_number(number).await.expect("q").expect("t");
    let events = store.events_of(t.id).await.expect("events").into_iter();
    events.map(|e| (e.kind, e.actor, detail_text(&e.detail, Lang::Nb))).collect()
}

async fn reclassify_change_municipality_and_reroute(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["10-gjovik-citrix-henger-visma.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let ok = |r: axum::http::Response<axum::body::Body>| assert_eq!(r.status(), StatusCode::SEE_OTHER);
    ok(app.post(&format!("/tickets/{n}/class"), Some(&s), &[("csrf", &s.csrf), ("class", "application")]).await);
    ok(app
        .post(&format!("/tickets/{n}/municipality"), Some(&s), &[("csrf", &s.csrf), ("municipality", "nordre-land")])
        .await);
    ok(app.post(&format!("/tickets/{n}/reroute"), Some(&s), &[("csrf", &s.csrf)]).await);
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    assert_eq!((t.class.as_str(), t.municipality.as_deref()), ("application", Some("nordre-land")));
    assert_eq!(t.route_to, ["anne.m.t.eng@nordre-land.kommune.no"]);
    assert_eq!(t.route_cc, ["pureservice@gjovik.kommune.no"]);
    let outbox = store.outbox_of(t.id).await.expect("outbox");
    let last = outbox.iter().rev().find(|o| o.kind == OutboxKind::Routing).expect("a new routing mail");
    assert_eq!(last.to, ["anne.m.t.eng@nordre-land.kommune.no"]);
    assert_eq!(last.status, OutboxStatus::Queued);
    let events = kinds(&app, &n).await;
    for (kind, detail) in [
        ("reclassified", "drift / IT-teknisk feil → programfeil / faglig feil"),
        ("municipality", "Gjøvik kommune → Nordre Land kommune"),
        ("routed", "til anne.m.t.eng@nordre-land.kommune.no"),
    ] {
        assert!(
            events.iter().any(|(k, a, d)| k == kind && a == "kari (helpdesk)" && d.contains(detail)),
            "{kind}: {events:?}"
        );
    }
    let bad = app.post(&format!("/tickets/{n}/class"), Some(&s), &[("csrf", &s.csrf), ("class", "whatever")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(text(bad).await.contains("«whatever» er ikke en gyldig verdi her"), "a refusal in the reader's language");
}

async fn resolve_reopen_link_and_release(db: Db) {
    let app = App::new(db).await;
    let n = app
        .ingest(&[
            "01-gjovik-lonn-complete.eml",
            "26-gjovik-haster-lonnskjoring.eml",
            "37-ostre-toten-mangler-telefon.eml",
        ])
        .await;
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let status = |n: String| async move { store.ticket_by_number(&n).await.expect("q").expect("t").status };
    app.post(&format!("/tickets/{}/status", n[0]), Some(&s), &[("csrf", &s.csrf), ("status", "resolved")]).await;
    assert_eq!(status(n[0].clone()).await, TicketStatus::Resolved);
    app.post(&format!("/tickets/{}/status", n[0]), Some(&s), &[("csrf", &s.csrf), ("status", "open")]).await;
    assert_eq!(status(n[0].clone()).await, TicketStatus::Routed);

    app.post(&format!("/tickets/{}/link", n[0]), Some(&s), &[("csrf", &s.csrf), ("other", &n[1].to_lowercase())]).await;
    let t0 = store.ticket_by_number(&n[0]).await.expect("q").expect("t");
    let t1 = store.ticket_by_number(&n[1]).await.expect("q").expect("t");
    assert_eq!(store.linked_tickets(t0.id).await.expect("links")[0].number, n[1]);
    assert_eq!(store.linked_tickets(t1.id).await.expect("links")[0].number, n[0], "links go both ways");
    let page = text(app.get(&format!("/tickets/{}", n[1]), Some(&s)).await).await;
    assert!(page.contains(&format!("href=\"/tickets/{}\"", n[0])), "linked tickets are shown");

    assert_eq!(status(n[2].clone()).await, TicketStatus::AwaitingInfo);
    let page = text(app.get(&format!("/tickets/{}", n[2]), Some(&s)).await).await;
    assert!(page.contains("Send videre nå uten å vente"), "a held ticket offers release");
    app.post(&format!("/tickets/{}/reroute", n[2]), Some(&s), &[("csrf", &s.csrf)]).await;
    assert_eq!(status(n[2].clone()).await, TicketStatus::Routed);
    assert!(kinds(&app, &n[2]).await.iter().any(|(k, _, _)| k == "released"));
}

async fn a_set_aside_mail_becomes_a_ticket(db: Db) {
    let app = App::new(db).await;
    app.ingest(&["60-autosvar-auto-submitted.eml"]).await;
    let s = app.sign_in("kari").await;
    let page = text(app.get("/mail", Some(&s)).await).await;
    assert!(page.contains("automatisk svar (Auto-Submitted: auto-replied)"), "the reason is shown");
    let id: i64 = page
        .split("action=\"/mail/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .and_then(|s| s.parse().ok())
        .expect("a button");
    let res = app.post(&format!("/mail/{id}/ticket"), Some(&s), &[("csrf", &s.csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let number = super::location(&res).trim_start_matches("/tickets/").to_string();
    let t = app.state.desk.store().ticket_by_number(&number).await.expect("q").expect("a ticket was made");
    let outbox = app.state.desk.store().outbox_of(t.id).await.expect("outbox");
    assert!(
        outbox.iter().all(|o| o.kind == OutboxKind::Routing),
        "no automatic reply to the robot: {:?}",
        outbox.iter().map(|o| &o.kind).collect::<Vec<_>>()
    );
    assert!(kinds(&app, &number).await.iter().any(|(k, a, _)| k == "made-ticket" && a == "kari (helpdesk)"));
    assert!(
        !text(app.get("/mail", Some(&s)).await).await.contains(&format!("/mail/{id}/ticket")),
        "it has left the list"
    );
}
