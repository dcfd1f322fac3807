//! Every page a helpdesk employee opens, in bokmål: none may show the English words routedesk
//! wrote before its reasons, audit entries and labels came from the message catalogue.

use super::{App, text};
use crate::support::Db;

/// Words and phrases of the English texts of before, as a reader would meet them.
const ENGLISH: &[&str] = &[
    "report from",
    "complete:",
    "missing:",
    "routing to",
    "queued to",
    "manual triage",
    "confidence",
    "score",
    "all systems operational",
    "operational",
    "unspecified",
    "no automatic reply",
    "held until",
    "sent to",
    "acknowledgement",
    "request-info",
    "awaiting-info",
    "routed",
    "received",
    "classified",
    "queued",
    "municipality",
    "screenshot",
    "phone:",
    "mobile:",
    "auto-reply",
    "bounce",
    "bulk",
    "same fault as",
    "similarity",
    "raised",
    "coordinator",
    "flagged",
    "opened",
    "told",
    "bounced",
    "confirmed",
    "dismissed",
    "taken out",
    "deadline",
    "outbound",
];

/// What a person reads of a page: its text and the attributes read aloud or shown (alt, title,
/// placeholder, aria-label), without markup, scripts and styles.
fn readable(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let tag_end = rest[start..].find('>').map_or(rest.len(), |e| start + e + 1);
        let tag = &rest[start..tag_end];
        for attr in ["alt=\"", "title=\"", "placeholder=\"", "aria-label=\""] {
            if let Some(v) = tag.split(attr).nth(1).and_then(|v| v.split('"').next()) {
                out.push_str(v);
                out.push(' ');
            }
        }
        rest = &rest[tag_end..];
        for skipped in ["script", "style"] {
            if tag.starts_with(&format!("<{skipped}")) {
                let close = format!("</{skipped}>");
                rest = rest.find(&close).map_or("", |e| &rest[e + close.len()..]);
            }
        }
    }
    out.push_str(rest);
    out.to_lowercase()
}

/// Where `phrase` stands in `text` as whole words (not inside "routedesk", say).
fn whole(text: &str, phrase: &str) -> Option<usize> {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(phrase)
        .map(|(at, _)| at)
        .find(|&at| !word(text[..at].chars().next_back()) && !word(text[at + phrase.len()..].chars().next()))
}

#[tokio::test]
async fn every_page_reads_in_bokmal() {
    let app = App::new(Db::Sqlite).await;
    let [gjovik, ..] = crate::incidents::one_fault_in_four_municipalities(&app).await;
    // A robot's mail, set aside with its reason.
    let robot = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-world/ignored-auto-reply-fravaersmelding.eml");
    let outcome = app.state.desk.ingest(&std::fs::read(robot).expect("fixture"), None).await.expect("ingest");
    assert!(matches!(outcome, routedesk::desk::Outcome::Ignored { .. }), "{outcome:?}");
    // A privacy case with its steps, on the first report.
    let prv = app.state.desk.flag_privacy(&gjovik, "kari (helpdesk)").await.expect("privacy");
    app.state.desk.appoint_coordinator(&prv, "kari", "kari (helpdesk)").await.expect("coordinator");
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let tickets = store.tickets(100).await.expect("tickets");
    let held = tickets.iter().find(|t| !t.missing.is_empty()).expect("a report that lacked details").number.clone();
    let t = store.ticket_by_number(&gjovik).await.expect("q").expect("ticket");
    let incident = store.incident_of_ticket(t.id).await.expect("q").expect("an incident").number;
    let mut found = Vec::new();
    for path in [
        "/tickets".to_string(),
        format!("/tickets/{gjovik}"),
        format!("/tickets/{held}"),
        "/dashboard".into(),
        "/incidents".into(),
        format!("/incidents/{incident}"),
        "/mail".into(),
        "/privacy".into(),
        format!("/privacy/{prv}"),
        "/tester".into(),
        "/learning".into(),
        "/status".into(),
    ] {
        let res = app.get(&path, Some(&s)).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        let page = readable(&text(res).await);
        // The page must have said something for "no English" to mean anything.
        assert!(page.split_whitespace().count() > 20, "{path}: {page}");
        let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
        if path == "/mail" {
            assert!(page.contains("fraværsmelding"), "the robot's mail is listed: {page}");
        }
        for english in ENGLISH {
            if let Some(at) = whole(&page, english) {
                let around: String =
                    page[page.floor_char_boundary(at.saturating_sub(60))..].chars().take(140).collect();
                found.push(format!("{path}: {english:?} in …{around}…"));
            }
        }
    }
    assert!(found.is_empty(), "English on bokmål pages:\n{}", found.join("\n"));
    // The same page in English has them: the search above finds what it looks for.
    let page = readable(&text(app.get_in_english(&format!("/tickets/{gjovik}"), &s).await).await);
    let page = page.split_whitespace().collect::<Vec<_>>().join(" ");
    for english in ["report from", "confidence", "received", "classified", "screenshot", "phone:"] {
        assert!(whole(&page, english).is_some(), "{english:?} on the English page: {page}");
    }
    // The privacy case's form speaks the reader's language too, not bokmål to everyone.
    let page = readable(&text(app.get_in_english(&format!("/privacy/{prv}"), &s).await).await);
    assert!(page.contains("incident report") && page.contains("root cause"), "{page}");
    assert!(!page.contains("avviksrapport") && !page.contains("behandlingsansvarlig"), "{page}");
}

/// An error page speaks the reader's language: a refused action, a value no filter knows, a page
/// that does not exist — in bokmål by default, in English for a reader who chose it.
#[tokio::test]
async fn error_pages_speak_the_readers_language() {
    use axum::http::{Request, StatusCode, header};
    let app = App::new(Db::Sqlite).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    let link = format!("/tickets/{n}/link");
    let form = [("csrf", s.csrf.as_str()), ("other", n.as_str())];
    let res = app.post(&link, Some(&s), &form).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = text(res).await;
    assert!(page.contains("En sak kan ikke kobles til seg selv") && page.contains("lang=\"nb\""), "{page}");
    let english = Request::post(&link)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{}={}; rd_lang=en", app.state.session_cookie(), s.cookie))
        .body(axum::body::Body::from(format!("csrf={}&other={n}", s.csrf)))
        .expect("request");
    let res = app.send(english).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = text(res).await;
    assert!(page.contains("A ticket cannot be linked to itself") && page.contains("lang=\"en\""), "{page}");
    assert!(!page.contains("kobles"), "{page}");
    assert_eq!(store_count(&app, &n).await, 0, "refused means nothing was linked");

    for (path, nb, en) in [
        (
            "/tickets?status=done".to_string(),
            "«done» er ikke en gyldig verdi her",
            "&#34;done&#34; is not a ticket status",
        ),
        ("/tickets/RD-2026-999999".to_string(), "Finnes ikke", "Not found"),
    ] {
        let page = text(app.get(&path, Some(&s)).await).await;
        assert!(page.contains(nb) && !page.contains(en), "{path}: {page}");
        let page = text(app.get_in_english(&path, &s).await).await;
        assert!(page.contains(en) && !page.contains(nb), "{path}: {page}");
    }
}

async fn store_count(app: &App, number: &str) -> usize {
    let store = app.state.desk.store();
    let t = store.ticket_by_number(number).await.expect("q").expect("ticket");
    store.linked_tickets(t.id).await.expect("links").len()
}
