//! Several users with the same fault: their reports become one group, then one suspected incident
//! with one mail to the helpdesk; routing mails name the other reports; staff confirm, follow the
//! stages, take a report out and dismiss — on SQLite and PostgreSQL.

use axum::http::StatusCode;
use routedesk::desk::Outcome;

use crate::service::{HELPDESK, on_both_databases};
use crate::support::Db;
use crate::web::{App, text};
use routedesk::domain::{IncidentState, IncidentStatus, OutboxKind};

on_both_databases!(
    several_users_with_the_same_fault_make_one_incident,
    the_status_page_shows_only_updates_staff_marked_public
);

fn report(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::read(dir.join("grouping/reports").join(name)).expect("report")
}

/// Records one report of the grouping fixtures; returns its ticket number.
pub async fn ingest(app: &App, name: &str) -> String {
    match app.state.desk.ingest(&report(name), None).await.expect("ingest") {
        Outcome::Ticket { number, .. } => number,
        other => panic!("{name}: {other:?}"),
    }
}

/// Earlier reports, since resolved: the history a running helpdesk has (it teaches which words
/// are common; resolved tickets are not grouped with new ones).
pub async fn history(app: &App) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let mut history: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(|e| e.ok().map(|e| e.path())).collect();
    history.sort();
    for p in history.iter().filter(|p| p.extension().is_some_and(|e| e == "eml")).take(30) {
        if let Outcome::Ticket { number, .. } =
            app.state.desk.ingest(&std::fs::read(p).expect("fixture"), None).await.expect("ingest")
        {
            app.state.desk.set_status(&number, "resolved", "test").await.expect("resolve");
        }
    }
}

/// Visma Connect sign-in fails: Gjøvik, Vestre Toten, then Søndre Land and Nordre Land — one
/// suspected incident, its mail to the helpdesk on the third report — and a printer fault in
/// Vestre Toten. Returns `[gjovik, vestre_toten, sondre_land, nordre_land, printer]`.
pub async fn one_fault_in_four_municipalities(app: &App) -> [String; 5] {
    history(app).await;
    let a = ingest(app, "01-gjovik-logget-inn-visma-net.eml").await;
    let b = ingest(app, "02-vestre-toten-innlogging-feiler.eml").await;
    let printer = ingest(app, "05-vestre-toten-utskrift-kommer-ikke.eml").await;
    let c = ingest(app, "04-sondre-land-visma-innlogging-mobil.eml").await;
    let d = ingest(app, "06-nordre-land-payroll-innlogging-nynorsk.eml").await;
    [a, b, c, d, printer]
}

async fn several_users_with_the_same_fault_make_one_incident(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let [a, b, c, d, printer] = one_fault_in_four_municipalities(&app).await;

    let incident_of = |n: String| async move {
        let t = store.ticket_by_number(&n).await.expect("q").expect("ticket");
        store.incident_of_ticket(t.id).await.expect("q").map(|i| i.number)
    };
    let inc = incident_of(a.clone()).await.expect("the first report is in a group");
    for n in [&b, &c, &d] {
        assert_eq!(incident_of(n.clone()).await.as_deref(), Some(inc.as_str()), "{n} is the same fault");
    }
    assert_eq!(incident_of(printer.clone()).await, None, "the printer fault is another fault");
    let row = store.incident_by_number(&inc).await.expect("q").expect("incident");
    assert_eq!((row.state.as_str(), row.reports, row.municipalities), ("suspected", 4, 4));

    // One mail to the helpdesk about the incident; later routing mails name the others and carry
    // no copy for the helpdesk.
    let mut incident_mails = 0;
    for n in [&a, &b, &c, &d] {
        let t = store.ticket_by_number(n).await.expect("q").expect("ticket");
        for o in store.outbox_of(t.id).await.expect("outbox") {
            if o.kind == OutboxKind::Incident {
                incident_mails += 1;
                assert_eq!(o.to, [HELPDESK]);
                // A notification: sent as the helpdesk, with an id our key verifies (test plan 20).
                assert!(app.state.desk.ids().is_ours(&o.message_id), "{}", o.message_id);
                assert_eq!(o.envelope_from, "helpdesk@routedesk.test");
                assert!(o.subject.starts_with(&format!("[{inc}] Mulig felles feil: 3 meldinger")), "{}", o.subject);
                assert!(o.body.contains(&a) && o.body.contains(&b) && o.body.contains(&c), "{}", o.body);
            }
        }
    }
    assert_eq!(incident_mails, 1, "one mail to the helpdesk, not one per report");
    let routing = |n: String| async move {
        let t = store.ticket_by_number(&n).await.expect("q").expect("ticket");
        store
            .outbox_of(t.id)
            .await
            .expect("outbox")
            .into_iter()
            .find(|o| o.kind == OutboxKind::Routing)
            .expect("routing mail")
    };
    let last = routing(d.clone()).await;
    assert!(
        last.body.contains(&format!("SAMME FEIL: 3 andre meldinger om samme feil ({a}, {b}, {c}), samlet i {inc}")),
        "{}",
        last.body
    );
    assert!(!routing(a.clone()).await.body.contains("SAMME FEIL"), "the first report had no others yet");

    // A-melding rejected (application faults, copied to the helpdesk): once they are a suspected
    // incident, a further report's routing mail goes without the helpdesk copy.
    let first = ingest(&app, "25-sondre-land-a-melding-avvist.eml").await;
    for n in ["29-gjovik-innsending-a-melding-feiler.eml", "30-nordre-land-a-meldinga-avvist-nynorsk.eml"] {
        ingest(&app, n).await;
    }
    let later = ingest(&app, "34-ostre-toten-skjemavalidering-a-melding.eml").await;
    let amelding = incident_of(later.clone()).await.expect("grouped");
    assert_eq!(incident_of(first.clone()).await.as_deref(), Some(amelding.as_str()));
    assert!(routing(first).await.cc.iter().any(|a| a == HELPDESK), "before the incident the helpdesk has its copy");
    let route_cc = store.ticket_by_number(&later).await.expect("q").expect("ticket").route_cc;
    assert!(route_cc.iter().any(|a| a == HELPDESK), "the route has the helpdesk copy: {route_cc:?}");
    let folded = routing(later.clone()).await;
    assert!(!folded.cc.iter().any(|a| a == HELPDESK), "the helpdesk follows {amelding} instead: {:?}", folded.cc);

    // The log shows it on top; staff confirm it and follow the vendor's stages.
    let s = app.sign_in("kari").await;
    let log = text(app.get("/tickets", Some(&s)).await).await;
    assert!(log.contains(&format!("href=\"/incidents/{inc}\"")), "the log shows the incident");
    let page = text(app.get(&format!("/incidents/{inc}"), Some(&s)).await).await;
    for n in [&a, &b, &c, &d] {
        assert!(page.contains(n.as_str()), "the incident lists {n}");
    }
    let post = |action: &'static str, form: Vec<(&'static str, String)>| {
        let (app, s, inc) = (&app, &s, inc.clone());
        async move {
            let mut f: Vec<(&str, &str)> = vec![("csrf", s.csrf.as_str())];
            f.extend(form.iter().map(|(k, v)| (*k, v.as_str())));
            app.post(&format!("/incidents/{inc}/{action}"), Some(s), &f).await.status()
        }
    };
    assert_eq!(
        post("update", vec![("stage", "identified".into()), ("text", "x".into())]).await,
        StatusCode::BAD_REQUEST,
        "confirm first"
    );
    assert_eq!(post("confirm", vec![]).await, StatusCode::SEE_OTHER);
    assert_eq!(
        post("update", vec![("stage", "identified".into()), ("text", "Visma Connect svarer ikke".into())]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        post("update", vec![("stage", "resolved".into()), ("text", "".into())]).await,
        StatusCode::BAD_REQUEST,
        "an update has a text"
    );
    assert_eq!(post("split", vec![("ticket", d.clone())]).await, StatusCode::SEE_OTHER);
    assert_eq!(post("split", vec![("ticket", printer.clone())]).await, StatusCode::BAD_REQUEST, "not in the incident");
    let row = store.incident_by_number(&inc).await.expect("q").expect("incident");
    assert_eq!((row.state, row.status, row.reports), (IncidentState::Confirmed, Some(IncidentStatus::Identified), 3));
    let timeline: Vec<(String, String)> =
        store.incident_updates(row.id).await.expect("q").into_iter().map(|u| (u.status.to_string(), u.actor)).collect();
    assert_eq!(
        timeline.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["group", "suspected", "investigating", "identified", "identified"]
    );
    assert!(timeline[2].1.starts_with("kari"), "who did it is recorded");
    assert_eq!(incident_of(d.clone()).await, None, "taken out of the group");

    // Municipal users do not see incidents (they span municipalities); dismissing ends the group.
    let ola = app.sign_in("ola").await;
    assert_eq!(app.get(&format!("/incidents/{inc}"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(post("dismiss", vec![]).await, StatusCode::SEE_OTHER);
    let again = ingest(&app, "03-ostre-toten-kommer-ikke-inn.eml").await;
    assert_ne!(incident_of(again).await.as_deref(), Some(inc.as_str()), "a dismissed group takes no new reports");
}

/// The public status page (no sign-in) shows a confirmed incident's title and the updates staff
/// marked "show on the status page" — never a line from before confirming (which names tickets),
/// one left unmarked, or routedesk's own.
async fn the_status_page_shows_only_updates_staff_marked_public(db: Db) {
    let app = App::new(db).await;
    let [_, _, sondre, nordre, _] = one_fault_in_four_municipalities(&app).await;
    let t = app.state.desk.store().ticket_by_number(&sondre).await.expect("q").expect("ticket");
    let inc = app.state.desk.store().incident_of_ticket(t.id).await.expect("q").expect("grouped").number;
    let s = app.sign_in("kari").await;
    let post = |action: &'static str, form: Vec<(&'static str, &'static str)>| {
        let (app, s, inc) = (&app, &s, inc.clone());
        let mut f = vec![("csrf", s.csrf.clone())];
        f.extend(form.into_iter().map(|(k, v)| (k, v.to_string())));
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.post(&format!("/incidents/{inc}/{action}"), Some(s), &f).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{action}");
        }
    };
    // Before confirming: a report taken out, by number.
    let split = app.post(&format!("/incidents/{inc}/split"), Some(&s), &[("csrf", &s.csrf), ("ticket", &nordre)]).await;
    assert_eq!(split.status(), StatusCode::SEE_OTHER);
    post("confirm", vec![("text", "Innlogging i Visma.net feiler"), ("public", "1")]).await;
    post("update", vec![("stage", "identified"), ("text", "Feilen ligger hos leverandøren"), ("public", "1")]).await;
    post("update", vec![("stage", "identified"), ("text", "Internt: Siri i Søndre Land er ringt opp")]).await;

    let page = text(app.get("/status", None).await).await;
    let feed = text(app.get("/status.json", None).await).await;
    for public in [&page, &feed] {
        assert!(public.contains("Innlogging i Visma.net feiler"), "the title and the confirming update");
        assert!(public.contains("Feilen ligger hos leverandøren"), "the update marked public");
        for hidden in ["RD-", "taken out", "Internt", "two reports of the same fault", "reports from"] {
            assert!(!public.contains(hidden), "{hidden:?} is not for the public");
        }
    }
    let staff_page = text(app.get(&format!("/incidents/{inc}"), Some(&s)).await).await;
    assert_eq!(staff_page.matches("på statussiden</span>").count(), 2, "staff see which updates are public");
    assert!(staff_page.contains("Internt: Siri"), "and every update");
}
