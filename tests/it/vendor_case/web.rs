//! The vendor case in the web view and on the clock: staff record the number and "open for all",
//! filter by it, see it on the incident, resolve it (the reporter is told); the one reminder after
//! the policy's working hours; and the privacy case's alert to the vendor and its answer.

use axum::http::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::service::on_both_databases;
use crate::support::Db;
use crate::web::{App, text};
use routedesk::desk::Outcome;
use routedesk::domain::{OutboxKind, TicketStatus};
use routedesk::store::OutboxRow;

on_both_databases!(
    staff_follow_the_vendor_case_in_the_web_view,
    the_contacts_are_reminded_once_after_the_working_hours,
    a_privacy_case_alerts_the_vendor_once_and_keeps_its_answer
);

const VENDOR: &str = "personvern@visma.example";

async fn mails(app: &App, ticket: i64, kind: OutboxKind) -> Vec<OutboxRow> {
    let all = app.state.desk.store().outbox_of(ticket).await.expect("outbox");
    all.into_iter().filter(|m| m.kind == kind).collect()
}

async fn staff_follow_the_vendor_case_in_the_web_view(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let numbers = app.ingest(&["01-gjovik-lonn-complete.eml", "13-sondre-land-skriver.eml"]).await;
    let (n, printer) = (&numbers[0], &numbers[1]);
    let t = store.ticket_by_number(n).await.expect("q").expect("ticket");
    let s = app.sign_in("kari").await;
    let page = text(app.get(&format!("/tickets/{n}"), Some(&s)).await).await;
    assert!(page.contains("Leverandørsak (Visma)") && page.contains("Ikke registrert ennå"), "asked for: {page}");
    let page = text(app.get(&format!("/tickets/{printer}"), Some(&s)).await).await;
    assert!(!page.contains("Leverandørsak"), "an operations fault has no vendor case");

    // A number that is none is refused; a number and "open for all" are recorded.
    let act = |action: &'static str, form: Vec<(&'static str, &'static str)>| {
        let (app, s, n) = (&app, &s, n.clone());
        async move {
            let mut f = vec![("csrf", s.csrf.as_str())];
            f.extend(form);
            app.post(&format!("/tickets/{n}/{action}"), Some(s), &f).await.status()
        }
    };
    assert_eq!(act("vendor", vec![("case", "<script>")]).await, StatusCode::BAD_REQUEST);
    assert_eq!(act("vendor", vec![("case", "Visma-sak 12345678"), ("open", "1")]).await, StatusCode::SEE_OTHER);
    let case = store.vendor_case_of(t.id).await.expect("q").expect("case");
    assert_eq!((case.case_number.as_deref(), case.open_to_region), (Some("12345678"), true));
    let page = text(app.get(&format!("/tickets/{n}"), Some(&s)).await).await;
    assert!(page.contains("Visma 12345678") && page.contains("name=\"open\" value=\"1\" checked"), "{page}");

    let api: serde_json::Value =
        serde_json::from_str(&text(app.get(&format!("/api/tickets/{n}"), Some(&s)).await).await).expect("json");
    assert_eq!(api["vendor_case"]["number"], "12345678", "{api}");
    assert_eq!(api["vendor_case"]["open_to_region"], true, "{api}");

    // The log filters by it; a value it does not know is an error, not an empty log.
    let with = text(app.get("/tickets?vendor=case", Some(&s)).await).await;
    assert!(with.contains(n.as_str()) && !with.contains(printer.as_str()), "{with}");
    let waiting = text(app.get("/tickets?vendor=waiting", Some(&s)).await).await;
    assert!(!waiting.contains(n.as_str()), "not waiting any more");
    assert_eq!(app.get("/tickets?vendor=soon", Some(&s)).await.status(), StatusCode::BAD_REQUEST);

    // Resolved by the vendor: the ticket is resolved and the reporter, who was answered, is told.
    assert_eq!(act("vendor-resolved", vec![]).await, StatusCode::SEE_OTHER);
    let t = store.ticket_by_number(n).await.expect("q").expect("ticket");
    assert_eq!(t.status, TicketStatus::Resolved);
    let told = mails(&app, t.id, OutboxKind::Resolved).await;
    assert_eq!(told.len(), 1);
    let to: Vec<String> = told[0].to.iter().map(ToString::to_string).collect();
    assert_eq!(to, [t.reporter.clone().expect("a reporter")]);
    assert!(told[0].body.contains("løst hos Visma (sak 12345678)"), "{}", told[0].body);
    assert_eq!(act("vendor-resolved", vec![]).await, StatusCode::BAD_REQUEST, "once");
    let kinds: Vec<String> = store.events_of(t.id).await.expect("events").into_iter().map(|e| e.kind).collect();
    for k in ["vendor-case", "vendor-resolved", "resolved"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

async fn the_contacts_are_reminded_once_after_the_working_hours(db: Db) {
    let app = App::new(db).await;
    let desk = &app.state.desk;
    let store = desk.store();
    let numbers = app.ingest(&["01-gjovik-lonn-complete.eml", "03-vestre-toten-bilag-complete.eml"]).await;
    let (waiting, answered) = (&numbers[0], &numbers[1]);
    desk.set_vendor_case(answered, "23456789", false, "kari").await.expect("recorded");
    let now = OffsetDateTime::now_utc();
    assert!(desk.vendor_reminders(now + Duration::hours(1)).await.expect("reminders").is_empty(), "too soon");
    // A fortnight holds more than eight working hours however the days fall.
    let later = now + Duration::days(14);
    assert_eq!(desk.vendor_reminders(later).await.expect("reminders"), std::slice::from_ref(waiting));
    assert!(desk.vendor_reminders(later + Duration::days(7)).await.expect("reminders").is_empty(), "one reminder");
    let t = store.ticket_by_number(waiting).await.expect("q").expect("ticket");
    let reminders = mails(&app, t.id, OutboxKind::VendorReminder).await;
    assert_eq!(reminders.len(), 1);
    let to: Vec<String> = reminders[0].to.iter().map(ToString::to_string).collect();
    assert_eq!(to, t.route_to, "to the same contacts");
    assert!(reminders[0].subject.contains("Visma-saksnummer mangler"), "{}", reminders[0].subject);
    let other = store.ticket_by_number(answered).await.expect("q").expect("ticket");
    assert!(
        mails(&app, other.id, OutboxKind::VendorReminder).await.is_empty(),
        "a case with its number is not reminded"
    );
}

async fn a_privacy_case_alerts_the_vendor_once_and_keeps_its_answer(db: Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("policy.toml");
    let text_of =
        routedesk::policy::DEFAULT_POLICY.replace("vendor_alert = \"\"", &format!("vendor_alert = \"{VENDOR}\""));
    std::fs::write(&policy, text_of).expect("policy written");
    let app = App::with(db, &Default::default(), |c| c.policy = Some(policy.clone())).await;
    let store = app.state.desk.store();
    let n = app.ingest(&["31-gjovik-lonnsslipp-feil-person.eml"]).await.remove(0);
    let t = store.ticket_by_number(&n).await.expect("q").expect("ticket");
    let prv = store.privacy_of_ticket(t.id).await.expect("q").expect("a privacy case");
    let s = app.sign_in("admin").await;
    let page = text(app.get(&format!("/privacy/{prv}"), Some(&s)).await).await;
    assert!(page.contains(&format!("Varsle leverandøren ({VENDOR})")), "{page}");
    let path = format!("/privacy/{prv}/vendor");
    let form = [("csrf", s.csrf.as_str())];
    assert_eq!(app.post(&path, Some(&s), &form).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.post(&path, Some(&s), &form).await.status(), StatusCode::BAD_REQUEST, "once");
    let sent = mails(&app, t.id, OutboxKind::PrivacyVendorAlert).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to.iter().map(ToString::to_string).collect::<Vec<_>>(), [VENDOR]);
    let m = &sent[0];
    assert!(m.subject.contains(&prv) && m.body.contains(&n) && m.body.contains("databehandler"), "{}", m.body);
    let reporter = t.reporter.clone().expect("a reporter");
    let name = t.reporter_name.clone().expect("a name");
    for personal in [reporter.as_str(), name.as_str(), "61 18 97"] {
        assert!(!m.body.contains(personal), "no {personal:?} in the alert: {}", m.body);
    }

    // The vendor answers the alert: kept on the case; its "løst" is no command.
    let answer = format!(
        "From: Visma Security <{VENDOR}>\r\nTo: helpdesk@routedesk.test\r\nSubject: RE: {}\r\nMessage-ID: <answer-{prv}@visma.example>\r\nIn-Reply-To: <{}>\r\n\r\nMottatt. Vi undersoker loggene for tjenesten.\r\nLøst\r\n",
        m.subject, m.message_id
    );
    let outcome = app.state.desk.ingest(answer.as_bytes(), None).await.expect("ingest");
    assert!(matches!(outcome, Outcome::Reply { .. }), "{outcome:?}");
    let p = store.privacy_by_number(&prv).await.expect("q").expect("case");
    assert!(p.vendor_answer.contains("Vi undersoker loggene") && p.vendor_answered_at.is_some(), "{p:?}");
    assert_ne!(store.ticket_by_number(&n).await.expect("q").expect("t").status, TicketStatus::Resolved);
    let page = text(app.get(&format!("/privacy/{prv}"), Some(&s)).await).await;
    assert!(page.contains("Leverandøren varslet") && page.contains("Vi undersoker loggene"), "{page}");
}
