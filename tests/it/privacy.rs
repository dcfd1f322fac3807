//! Privacy incidents (seed 002): opened by the classifier or by staff, the data-protection contacts
//! told at once, every stage, the report, the 72-hour deadline and its warning (with the clock
//! moved on), closing only with a review note, and who may see one — on SQLite and PostgreSQL.

use axum::http::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::service::on_both_databases;
use crate::support::Db;
use crate::web::{App, PASSWORD, Session, text};
use routedesk::domain::{OutboxKind, PrivacyStage};

on_both_databases!(a_privacy_incident_follows_the_vendors_process);

async fn act(app: &App, prv: &str, s: &Session, action: &str, form: &[(&str, &str)]) -> StatusCode {
    let mut f = vec![("csrf", s.csrf.as_str())];
    f.extend_from_slice(form);
    app.post(&format!("/privacy/{prv}/{action}"), Some(s), &f).await.status()
}

async fn a_privacy_incident_follows_the_vendors_process(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let desk = &app.state.desk;
    let hash = routedesk::secret::hash_password(PASSWORD).expect("hash");
    store.create_user("dpo", "Personvernombud", routedesk::domain::Role::Privacy, None, &hash).await.expect("user");
    assert!(store.set_user_email("kari", Some("kari.helpdesk@gjovik.kommune.no")).await.expect("email"));

    // The classifier flags it: the incident opens with the report, and the contacts are told.
    let n = app.ingest(&["31-gjovik-lonnsslipp-feil-person.eml"]).await.remove(0);
    let t = store.ticket_by_number(&n).await.expect("q").expect("ticket");
    assert!(t.privacy);
    let prv = store.privacy_of_ticket(t.id).await.expect("q").expect("a privacy incident");
    let told =
        store.outbox_of(t.id).await.expect("outbox").into_iter().find(|m| m.kind == OutboxKind::Privacy).expect("told");
    assert_eq!(told.to, ["personvernombud@gjovik.kommune.no"]);
    assert!(told.subject.contains(&prv) && told.body.contains("72 timer"), "{}", told.body);
    let p = store.privacy_by_number(&prv).await.expect("q").expect("row");
    assert_eq!(p.stage, PrivacyStage::AlertReceived);
    assert_eq!(p.deadline_at - p.recorded_at, Duration::hours(72), "72 hours from when it was recorded");

    // Only admins, data-protection contacts and the coordinator see it.
    let (kari, ola, admin, dpo) =
        (app.sign_in("kari").await, app.sign_in("ola").await, app.sign_in("admin").await, app.sign_in("dpo").await);
    let path = format!("/privacy/{prv}");
    for (who, s, want) in [
        ("kari", &kari, StatusCode::NOT_FOUND),
        ("ola", &ola, StatusCode::NOT_FOUND),
        ("admin", &admin, StatusCode::OK),
        ("dpo", &dpo, StatusCode::OK),
    ] {
        assert_eq!(app.get(&path, Some(s)).await.status(), want, "{who}");
    }
    assert!(!text(app.get("/privacy", Some(&kari)).await).await.contains(&prv), "not even in the list");
    let link = format!("href=\"/privacy/{prv}\"");
    assert!(
        text(app.get(&format!("/tickets/{n}"), Some(&admin)).await).await.contains(&link),
        "the ticket links to it"
    );
    assert!(!text(app.get(&format!("/tickets/{n}"), Some(&kari)).await).await.contains(&link), "but not for others");
    assert_eq!(
        act(&app, &prv, &dpo, "stage", &[("stage", "assessing")]).await,
        StatusCode::BAD_REQUEST,
        "a coordinator first"
    );
    assert_eq!(act(&app, &prv, &dpo, "coordinator", &[("coordinator", "nobody")]).await, StatusCode::BAD_REQUEST);
    assert_eq!(act(&app, &prv, &dpo, "coordinator", &[("coordinator", "kari")]).await, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&path, Some(&kari)).await.status(), StatusCode::OK, "the coordinator sees it now");

    // The stages, the report, and closing only from review with a review note.
    assert_eq!(act(&app, &prv, &kari, "stage", &[("stage", "review")]).await, StatusCode::BAD_REQUEST, "no skipping");
    assert_eq!(act(&app, &prv, &kari, "stage", &[("stage", "assessing")]).await, StatusCode::SEE_OTHER);
    let report = [
        ("timeline", "08:10 lønnsslipp sendt til feil ansatt; 08:40 meldt"),
        ("root_cause", "Feil e-postadresse i personalkortet"),
        ("data_subjects", "Én ansatt"),
        ("personal_data", "Lønn, kontonummer"),
        ("mitigation", "Mottaker har slettet e-posten"),
        ("controller", "Gjøvik kommune"),
        ("crisis", "1"),
    ];
    assert_eq!(act(&app, &prv, &kari, "report", &report).await, StatusCode::SEE_OTHER);
    assert_eq!(act(&app, &prv, &kari, "close", &[("note", "x")]).await, StatusCode::BAD_REQUEST, "close from review");
    assert_eq!(act(&app, &prv, &kari, "stage", &[("stage", "review")]).await, StatusCode::SEE_OTHER);
    assert_eq!(
        act(&app, &prv, &kari, "close", &[("note", "  ")]).await,
        StatusCode::BAD_REQUEST,
        "a review note is required"
    );
    assert_eq!(act(&app, &prv, &kari, "authority", &[]).await, StatusCode::SEE_OTHER);
    assert_eq!(
        act(&app, &prv, &kari, "close", &[("note", "Rutine for adresseendring er strammet inn")]).await,
        StatusCode::SEE_OTHER
    );
    let p = store.privacy_by_number(&prv).await.expect("q").expect("row");
    assert_eq!((p.stage.as_str(), p.coordinator.as_deref(), p.crisis), ("closed", Some("kari"), true));
    assert_eq!(
        (p.root_cause.as_str(), p.controller.as_str()),
        ("Feil e-postadresse i personalkortet", "Gjøvik kommune")
    );
    assert!(p.authority_notified_at.is_some() && p.closed_at.is_some());
    assert_eq!(
        act(&app, &prv, &kari, "stage", &[("stage", "assessing")]).await,
        StatusCode::BAD_REQUEST,
        "closed is closed"
    );
    let trail: Vec<(String, String)> = store
        .events_of(t.id)
        .await
        .expect("events")
        .into_iter()
        .map(|e| (e.kind, e.actor))
        .filter(|e| e.0.starts_with("privacy"))
        .collect();
    let kinds: Vec<&str> = trail.iter().map(|e| e.0.as_str()).collect();
    for k in [
        "privacy-incident",
        "privacy-coordinator",
        "privacy-stage",
        "privacy-report",
        "privacy-authority",
        "privacy-closed",
    ] {
        assert!(kinds.contains(&k), "{k} in the audit trail: {kinds:?}");
    }
    assert!(trail.iter().any(|e| e.0 == "privacy-closed" && e.1.starts_with("kari")), "with who did it");

    // Staff flag another ticket; its deadline warning goes to the coordinator once, 24 hours before.
    let other = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    assert_eq!(
        app.post(&format!("/tickets/{other}/privacy"), Some(&s), &[("csrf", &s.csrf)]).await.status(),
        StatusCode::SEE_OTHER
    );
    let o = store.ticket_by_number(&other).await.expect("q").expect("ticket");
    assert!(o.privacy, "staff flagged it");
    let prv2 = store.privacy_of_ticket(o.id).await.expect("q").expect("incident");
    desk.appoint_coordinator(&prv2, "kari", "dpo (privacy)").await.expect("appoint");
    let third = app.ingest(&["32-ostre-toten-kan-se-andres-lonn.eml"]).await.remove(0);
    let t3 = store.ticket_by_number(&third).await.expect("q").expect("ticket");
    let prv3 = store.privacy_of_ticket(t3.id).await.expect("q").expect("incident");
    desk.privacy_authority_notified(&prv3, "dpo (privacy)").await.expect("notified");

    let now = OffsetDateTime::now_utc();
    assert!(desk.privacy_deadline_warnings(now).await.expect("check").is_empty(), "72 hours away: no warning yet");
    let warned = desk.privacy_deadline_warnings(now + Duration::hours(49)).await.expect("check");
    assert_eq!(warned, vec![prv2.clone()], "24 hours before; not the closed one, not the notified one");
    let warning = store
        .outbox_of(o.id)
        .await
        .expect("outbox")
        .into_iter()
        .find(|m| m.kind == OutboxKind::PrivacyDeadline)
        .expect("warning");
    assert_eq!(warning.to, ["kari.helpdesk@gjovik.kommune.no"], "to the coordinator");
    assert!(warning.subject.contains(&prv2), "{}", warning.subject);
    assert!(desk.privacy_deadline_warnings(now + Duration::hours(60)).await.expect("check").is_empty(), "warned once");
    let page = text(app.get(&format!("/privacy/{prv2}"), Some(&s)).await).await;
    assert!(page.contains(" t igjen"), "the deadline is shown with the time left");
}
