//! The vendor's status page, served by a local HTTP server from recorded responses (built from the
//! vendor's own incidents): known vendor issues mark reports, their acknowledgement and routing
//! mail; the region's public status page and feed show them with the region's confirmed incidents.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use routedesk::desk::Outcome;
use routedesk::vendor::poll::client;

use crate::service::on_both_databases;
use crate::support::Db;
use crate::web::{App, text};
use routedesk::domain::{IncidentStatus, OutboxKind};

on_both_databases!(known_vendor_issues_and_the_regional_status_page);

/// A status page on loopback; `serve` chooses which recorded answer it gives (or an error).
struct StatusServer {
    url: String,
    serving: Arc<Mutex<Option<&'static str>>>,
}

async fn status_server() -> StatusServer {
    let serving: Arc<Mutex<Option<&'static str>>> = Arc::new(Mutex::new(Some("operational.json")));
    let state = serving.clone();
    let app = axum::Router::new().route(
        "/api/v2/summary.json",
        axum::routing::get(move || {
            let state = state.clone();
            async move {
                let name = *state.lock().expect("lock");
                match name {
                    Some(name) => {
                        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/statuspage");
                        let body = std::fs::read_to_string(dir.join(name)).expect("fixture");
                        (StatusCode::OK, [("content-type", "application/json")], body)
                    }
                    None => (StatusCode::BAD_GATEWAY, [("content-type", "text/plain")], "upstream down".to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/api/v2/summary.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    StatusServer { url, serving }
}

fn report(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grouping/reports");
    std::fs::read(dir.join(name)).expect("report")
}

async fn known_vendor_issues_and_the_regional_status_page(db: Db) {
    let app = App::new(db).await;
    let server = status_server().await;
    let http = client().expect("client");
    let vendor = app.state.desk.vendor();
    let store = app.state.desk.store();
    let serve = |name: Option<&'static str>| *server.serving.lock().expect("lock") = name;

    vendor.poll(&http, &server.url).await.expect("poll");
    assert!(vendor.known().is_empty(), "all operational");

    // Visma Connect sign-in fails (the vendor's incident): a Payroll report is a known vendor issue.
    serve(Some("connect-incident.json"));
    vendor.poll(&http, &server.url).await.expect("poll");
    let Outcome::Ticket { number, .. } =
        app.state.desk.ingest(&report("22-gjovik-feil-feriepenger-lonnsslipp.eml"), None).await.expect("ingest")
    else {
        panic!("a ticket")
    };
    let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
    let events = store.events_of(t.id).await.expect("events");
    let known = events.iter().find(|e| e.kind == "vendor-issue").expect("marked as a known vendor issue");
    assert!(known.detail.contains("Sign in is not working for Visma.net (identified) https://"), "{}", known.detail);
    let mails = store.outbox_of(t.id).await.expect("outbox");
    let ack = mails.iter().find(|m| m.kind == OutboxKind::Acknowledgement).expect("acknowledgement");
    assert!(ack.body.contains("Leverandøren har allerede meldt om en feil"), "{}", ack.body);
    assert!(ack.body.contains("https://helpdesk.example/status"), "the acknowledgement links to the status page");
    let routing = mails.iter().find(|m| m.kind == OutboxKind::Routing).expect("routing mail");
    assert!(
        routing.body.contains("KJENT FEIL HOS LEVERANDØR: Sign in is not working for Visma.net"),
        "{}",
        routing.body
    );

    // The public page and feed (no sign-in) show the vendor's problem on our products.
    let page = app.get("/status", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = text(page).await;
    assert!(page.contains("Sign in is not working for Visma.net"), "{page}");
    // In bokmål, every word of ours; the catch-all product is no system of its own.
    assert!(page.contains("<html lang=\"nb\">") && page.contains(">Driftsforstyrrelse<"), "{page}");
    assert!(
        page.contains("<td>Visma.net Payroll</td><td><span class=\"component partial_outage\">Delvis nede</span>"),
        "{page}"
    );
    assert!(page.contains(">I drift<"), "the products that are fine");
    for english in
        [">operational<", ">partial_outage<", "All Systems", "Service Disruption", "unspecified", ">investigating<"]
    {
        assert!(!page.contains(english), "{english} on the bokmål page");
    }
    let english = text(app.get("/status?lang=en", None).await).await;
    assert!(english.contains("<html lang=\"en\">") && english.contains(">Partial outage<"), "{english}");
    let feed: serde_json::Value = serde_json::from_str(&text(app.get("/status.json", None).await).await).expect("json");
    let payroll =
        feed["components"].as_array().expect("components").iter().find(|c| c["name"] == "Visma.net Payroll").cloned();
    assert_eq!(
        payroll.map(|c| c["status"].clone()),
        Some(serde_json::json!("partial_outage")),
        "the worst of its components"
    );
    assert_eq!(feed["incidents"][0]["source"], "vendor");
    assert_eq!(feed["status"]["indicator"], "major");

    // A confirmed regional incident is listed with its staff updates, and by day once resolved;
    // a report's own words never are.
    let (_, inc) = {
        let mut tx = store.begin().await.expect("tx");
        let r = tx
            .create_incident("Ola Nordmann sin lønn er feil", time::OffsetDateTime::now_utc())
            .await
            .expect("incident");
        tx.commit().await.expect("commit");
        r
    };
    let feed_before: serde_json::Value =
        serde_json::from_str(&text(app.get("/status.json", None).await).await).expect("json");
    assert!(!feed_before.to_string().contains("Ola Nordmann"), "an unconfirmed group is not public");
    app.state
        .desk
        .confirm_incident(&inc, "Innlogging i Visma.net feiler", true, "kari (helpdesk)")
        .await
        .expect("confirm");
    app.state
        .desk
        .update_incident(&inc, IncidentStatus::Identified, "Feilen ligger hos leverandøren", true, "kari (helpdesk)")
        .await
        .expect("update");
    let feed: serde_json::Value = serde_json::from_str(&text(app.get("/status.json", None).await).await).expect("json");
    let regional = feed["incidents"]
        .as_array()
        .expect("incidents")
        .iter()
        .find(|i| i["source"] == "region")
        .cloned()
        .expect("regional");
    assert_eq!(
        (regional["name"].as_str(), regional["status"].as_str()),
        (Some("Innlogging i Visma.net feiler"), Some("identified"))
    );
    assert_eq!(regional["incident_updates"][0]["body"], "Feilen ligger hos leverandøren", "newest update first");
    assert!(!feed.to_string().contains("Ola Nordmann"));
    app.state
        .desk
        .update_incident(&inc, IncidentStatus::Resolved, "Innlogging virker igjen", true, "kari (helpdesk)")
        .await
        .expect("update");
    let feed: serde_json::Value = serde_json::from_str(&text(app.get("/status.json", None).await).await).expect("json");
    assert_eq!(feed["past_incidents"][0]["incidents"][0]["name"], "Innlogging i Visma.net feiler");

    // The status page failing keeps the last answer; once the vendor resolves, reports are plain.
    serve(None);
    assert!(vendor.poll(&http, &server.url).await.is_err());
    assert!(!vendor.known().is_empty(), "a failed poll keeps the last answer");
    assert!(vendor.latest().2.is_some_and(|e| e.contains("error")), "and says it failed");
    serve(Some("resolved.json"));
    vendor.poll(&http, &server.url).await.expect("poll");
    assert!(vendor.known().is_empty());
    let Outcome::Ticket { number, .. } =
        app.state.desk.ingest(&report("26-ostre-toten-feriepenger-pdf.eml"), None).await.expect("ingest")
    else {
        panic!("a ticket")
    };
    let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
    assert!(store.events_of(t.id).await.expect("events").iter().all(|e| e.kind != "vendor-issue"));
}
