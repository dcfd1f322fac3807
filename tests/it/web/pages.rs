//! What the pages show: the log with its filters, counts, search and pages; the ticket as sent with
//! hostile HTML made harmless; files; the policy tester; the dashboard.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use routedesk::domain::TicketStatus;

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;

const CORPUS: &[&str] = &[
    "01-gjovik-lonn-complete.eml",
    "02-ostre-toten-faktura-complete.eml",
    "10-gjovik-citrix-henger-visma.eml",
    "17-gjovik-glemt-passord.eml",
    "23-gjovik-visma-fungerer-ikke.eml",
    "26-gjovik-haster-lonnskjoring.eml",
    "31-gjovik-lonnsslipp-feil-person.eml",
    "37-ostre-toten-mangler-telefon.eml",
    "57-ukjent-avsender-gmail.eml",
    "60-autosvar-auto-submitted.eml",
];

on_both_databases!(
    the_log_filters_counts_searches_and_pages,
    search_words_are_whole_or_beginnings_and_short_words_whole,
    counts_over_dates_add_up_whole_months_and_the_days_at_either_end,
    the_ticket_page_shows_everything_and_no_hostile_html,
    files_are_served_safely,
    the_tester_and_the_dashboard_work,
    a_sender_our_server_could_not_verify_is_marked,
    many_matches_and_few_are_paged_and_counted_alike,
    a_word_thick_among_the_newest_and_thin_below_is_paged_and_counted_exactly
);

/// The ticket numbers of the log's rows, in order.
fn rows(html: &str) -> Vec<String> {
    html.split("<tr class=")
        .skip(1)
        .filter_map(|row| row.split("<td><a href=\"/tickets/").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect()
}

async fn the_log_filters_counts_searches_and_pages(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(CORPUS).await;
    let s = app.sign_in("kari").await;
    let all = text(app.get("/tickets", Some(&s)).await).await;
    let listed = rows(&all);
    assert_eq!(listed.len(), 9, "nine tickets; the auto-reply is not one");
    assert_eq!(listed[0], n[8], "newest first");
    assert!(all.contains("Saker <span class=\"count\">9</span>"), "the total is shown");
    assert!(all.contains("class=\"urgent"), "urgent tickets stand out");
    assert!(all.contains("badge privacy"), "privacy tickets stand out");
    // Municipalities as people write them, in the rows and in the filter; the id only in links.
    assert!(all.contains("<td>Østre Toten kommune</td>"), "{all}");
    assert!(all.contains(">Østre Toten kommune</a>"), "the filter names it");
    assert!(!all.contains(">ostre-toten<"), "no id shown as text");

    let case = |q: String| {
        let app = &app;
        let s = &s;
        async move { rows(&text(app.get(&format!("/tickets?{q}"), Some(s)).await).await) }
    };
    assert_eq!(case("class=operations".into()).await, [n[2].clone()]);
    assert_eq!(case("class=access".into()).await, [n[8].clone(), n[3].clone()]);
    assert_eq!(case("class=unclassified".into()).await, [n[4].clone()]);
    assert_eq!(case("municipality=ostre-toten".into()).await, [n[7].clone(), n[1].clone()]);
    // The outside (gmail) sender's incomplete report waits for nobody: nobody can be asked, so it
    // goes to the helpdesk at once.
    assert_eq!(case("status=awaiting-info".into()).await, vec![n[7].clone(), n[4].clone()]);
    assert_eq!(case("status=triage".into()).await.first(), Some(&n[8]));
    assert_eq!(case("urgent=1".into()).await, [n[5].clone()]);
    assert_eq!(case("privacy=1".into()).await, [n[6].clone()]);
    assert_eq!(case("q=citrix".into()).await, [n[2].clone()], "search finds the subject");
    assert_eq!(case("q=randi.kristiansen".into()).await, [n[0].clone()], "search finds the reporter");
    assert_eq!(case(format!("q={}", n[3])).await, [n[3].clone()], "search finds the number");
    assert_eq!(case("q=utbetalingsfila".into()).await, [n[5].clone()], "search finds the body text");
    assert_eq!(case("q=BEREGNING+avbrutt".into()).await, [n[5].clone()], "words are all found, in any case");
    assert!(case("q=virker+ikke+beregning".into()).await.is_empty(), "a word no ticket has finds nothing");
    assert!(case("from=2001-01-01&to=2001-12-31".into()).await.is_empty(), "dates filter");
    assert_eq!(case("class=application&municipality=gjovik&urgent=1".into()).await, [n[5].clone()], "filters combine");

    // Counts per filter value, and links that toggle them.
    let facets = text(app.get("/tickets?class=application", Some(&s)).await).await;
    assert!(facets.contains(">Programfeil</a> <span class=\"count\">"), "{facets}");
    assert!(facets.contains("class=\"active\">Programfeil"), "the active filter is marked");
    assert_eq!(case("q=kristian".into()).await, [n[0].clone()], "a word is found by its start");

    // The counts follow the tickets as staff change them (they are kept per day, not counted).
    let counts = || async {
        let f = app.state.desk.store().facets(&routedesk::store::TicketFilter::default()).await.expect("facets");
        (f.total, f.status.into_iter().map(|c| (c.value, c.tickets)).collect::<std::collections::BTreeMap<_, _>>())
    };
    let (total, before) = counts().await;
    assert_eq!((total, before.get(&TicketStatus::AwaitingInfo)), (9, Some(&2)));
    app.post(&format!("/tickets/{}/status", n[7]), Some(&s), &[("csrf", &s.csrf), ("status", "resolved")]).await;
    let (total, after) = counts().await;
    assert_eq!(total, 9);
    assert_eq!(after.get(&TicketStatus::AwaitingInfo), Some(&1));
    assert_eq!(
        after.get(&TicketStatus::Resolved).copied(),
        Some(before.get(&TicketStatus::Resolved).copied().unwrap_or(0) + 1)
    );
    let lonn = routedesk::store::TicketFilter { search: Some("lønn".into()), ..Default::default() };
    let searched = app.state.desk.store().facets(&lonn).await.expect("facets");
    assert!(searched.total >= 1 && searched.total < 9 && !searched.capped, "a search counts its own matches");

    // Keyset pages through the API (same query underneath): three pages of four, then the end.
    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    for _ in 0..5 {
        let path = match before {
            Some(b) => format!("/api/tickets?limit=4&before={b}"),
            None => "/api/tickets?limit=4".to_string(),
        };
        let json: serde_json::Value = serde_json::from_str(&text(app.get(&path, Some(&s)).await).await).expect("json");
        seen.extend(
            json["tickets"].as_array().expect("list").iter().filter_map(|t| t["number"].as_str().map(str::to_string)),
        );
        match json["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    let mut expected: Vec<String> = n.iter().filter(|x| x.starts_with("RD-")).cloned().collect();
    expected.reverse();
    assert_eq!(seen, expected, "every ticket once, newest first");
}

/// Both databases find the same tickets: words whole when some ticket has them all whole, else as
/// word beginnings (inflections), except words shorter than three letters, which stay whole.
async fn search_words_are_whole_or_beginnings_and_short_words_whole(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(CORPUS).await;
    let s = app.sign_in("kari").await;
    let case = |q: &str| {
        let (app, s, path) = (&app, &s, format!("/tickets?q={q}"));
        async move { rows(&text(app.get(&path, Some(s)).await).await) }
    };
    assert_eq!(case("l%C3%B8nnskj%C3%B8ring").await, [n[0].clone()], "a word some ticket has whole is matched whole");
    assert_eq!(case("utbetalingsfil").await, [n[5].clone()], "a long word finds its inflection");
    assert_eq!(
        case("haster+l%C3%B8nnskj%C3%B8ring").await,
        [n[5].clone()],
        "words no ticket has all whole are word beginnings: HASTER: Lønnskjøringen stopper"
    );
    assert!(case("utbetalingsfil+ut").await.is_empty(), "a short word is whole only: `ut` does not find utbetales");
    assert_eq!(
        case("l%C3%B8nnskj%C3%B8ringe+i").await,
        [n[6].clone(), n[5].clone()],
        "a long word as a beginning, a short one whole"
    );
    // A beginning no word of the index has ends the search: nothing, however common the others.
    assert!(case("virker+l%C3%B8nnskj%C3%B8ring+ikke").await.is_empty(), "no ticket has a word beginning `virker`");
    assert_eq!(
        case("utbet+haster").await,
        [n[5].clone()],
        "a beginning standing for several words (utbetales, utbetalingsfil…) finds a ticket with any of them"
    );
    // An address is its parts to the index, as the phrase of them: whole, or without its first part.
    assert_eq!(case("bjorn.hagen%40ostre-toten.kommune.no").await, [n[1].clone()], "a whole address");
    assert_eq!(case("hagen%40ostre-toten.kommune.no").await, [n[1].clone()], "an address's later parts");
    assert!(case("hagen.bjorn").await.is_empty(), "its parts in another order are another phrase");
    // A filter keeps its search's worked-out words for its page and counts, and works them out
    // again when the search changes.
    let store = app.state.desk.store();
    let mut f = routedesk::store::TicketFilter { search: Some("utbetalingsfil".into()), ..Default::default() };
    let numbers = |rows: Vec<routedesk::store::TicketRow>| rows.into_iter().map(|t| t.number).collect::<Vec<_>>();
    assert_eq!(numbers(store.ticket_page(&f, None, 10).await.expect("page")), [n[5].clone()]);
    assert_eq!(store.facets(&f).await.expect("counts").total, 1);
    f.search = Some("haster lønnskjøring".into());
    assert_eq!(numbers(store.ticket_page(&f, None, 10).await.expect("page")), [n[5].clone()]);
    f.search = Some("lønnskjøring".into());
    assert_eq!(numbers(store.ticket_page(&f, None, 10).await.expect("page")), [n[0].clone()]);
    assert_eq!(store.facets(&f).await.expect("counts").total, 1);
}

/// The filter counts over a range of dates add up the monthly counts of the months wholly inside
/// and the daily counts of the days at either end: the same as counting the tickets.
async fn counts_over_dates_add_up_whole_months_and_the_days_at_either_end(db: Db) {
    use routedesk::store::{Pool, TicketFilter};
    use time::macros::datetime;
    let app = App::new(db).await;
    let n = app.ingest(CORPUS).await;
    let store = app.state.desk.store();
    // Spread over four months; naming `status` moves the ticket's counts with it.
    let days = [
        datetime!(2026-01-31 23:00 UTC),
        datetime!(2026-02-01 00:00 UTC),
        datetime!(2026-02-14 12:00 UTC),
        datetime!(2026-03-01 08:00 UTC),
        datetime!(2026-03-31 23:59 UTC),
        datetime!(2026-04-01 00:00 UTC),
        datetime!(2026-04-15 00:00 UTC),
    ];
    let numbers: Vec<&String> = n.iter().filter(|x| x.starts_with("RD-")).collect();
    assert!(numbers.len() >= days.len(), "{n:?}");
    for (number, at) in numbers.iter().zip(days) {
        let sql = "UPDATE tickets SET created_at = $1, status = status WHERE number = $2";
        let done = match store.pool() {
            Pool::Sqlite(p) => sqlx::query(sql).bind(at).bind(*number).execute(p).await.map(|r| r.rows_affected()),
            Pool::Postgres(p) => sqlx::query(sql).bind(at).bind(*number).execute(p).await.map(|r| r.rows_affected()),
        };
        assert_eq!(done.expect("update"), 1);
    }
    let count = |from: Option<time::OffsetDateTime>, until: Option<time::OffsetDateTime>| async move {
        let f = TicketFilter { from, until, ..TicketFilter::default() };
        let counted = store.facets(&f).await.expect("facets").total;
        let listed = store.ticket_page(&f, None, 100).await.expect("page").len() as i64;
        (counted, listed)
    };
    let today = (numbers.len() - days.len()) as i64;
    let jan15 = datetime!(2026-01-15 00:00 UTC);
    let feb1 = datetime!(2026-02-01 00:00 UTC);
    let mar1 = datetime!(2026-03-01 00:00 UTC);
    let mar31 = datetime!(2026-03-31 00:00 UTC);
    let apr1 = datetime!(2026-04-01 00:00 UTC);
    let apr10 = datetime!(2026-04-10 00:00 UTC);
    for (from, until, expected) in [
        (Some(jan15), Some(apr10), 6),  // days of January, February and March whole, days of April
        (Some(feb1), Some(apr1), 4),    // two whole months
        (Some(feb1), Some(mar31), 3),   // a whole month and days
        (Some(mar1), Some(mar31), 1),   // days within one month
        (Some(jan15), None, 7 + today), // and those of today
        (None, Some(mar1), 3),
        (None, Some(apr10), 6),
    ] {
        assert_eq!(count(from, until).await, (expected, expected), "{from:?}..{until:?}");
    }
}

const HOSTILE: &str = "From: Kari <kari.rohne@sondre-land.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\nSubject: Feil i faktura <script>alert(1)</script>\r\n\
Message-ID: <hostile@x>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<html><body><p>Fakturaen feiler.</p><script>alert('x')</script><img src=\"https://tracker.example/p.gif\" onerror=\"alert(2)\">\
<a href=\"javascript:alert(3)\">klikk</a><svg onload=\"alert(4)\"></svg><iframe src=\"https://evil.example\"></iframe>\
<form action=\"https://evil.example\"><input name=\"pw\"></form><p style=\"background:url(https://tracker.example/bg)\">Tlf 61 12 64 26</p></body></html>\r\n";

async fn the_ticket_page_shows_everything_and_no_hostile_html(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    let page = text(app.get(&format!("/tickets/{n}"), Some(&s)).await).await;
    for expected in [
        "Feil ved lønnskjøring i Visma.net Payroll",
        "Randi Kristiansen",
        "Skjermbilde.png",
        "1280×800",
        "Komplett: skjermdump, telefon, mobil og e-post",
        "<strong>Programfeil</strong>",
        "Sendt videre",
        "tor-espen.berg@gjovik.kommune.no",
        "pureservice@gjovik.kommune.no",
        "Videresending",
        "Kvittering",
        "I kø",
        "Mottatt",
        "Klassifisert",
        "Melding fra randi.kristiansen@gjovik.kommune.no",
        "Komplett: skjermbilde, telefon, mobil og e-post er med",
        "Telefon: 61 18 97 26",
        "Klasse programfeil / faglig feil:",
    ] {
        assert!(page.contains(expected), "the ticket page shows {expected:?}");
    }
    // The history's automatic entries are data too.
    let history = page.split("<h2>").find(|p| p.contains("Melding fra")).expect("the history");
    for english in ["report from", "complete:", "queued to", "confidence", "routing to"] {
        assert!(!history.contains(english), "{english:?} in the bokmål history");
    }
    // The reasons are data, worded in the reader's language.
    let reasons = page.split("<ul class=\"reasons\">").nth(1).and_then(|r| r.split("</ul>").next()).expect("reasons");
    for english in ["phone:", "class application", "score", "confidence", "route application", "municipality"] {
        assert!(!reasons.contains(english), "{english:?} in the bokmål reasons: {reasons}");
    }
    let en = text(app.get_in_english(&format!("/tickets/{n}"), &s).await).await;
    assert!(en.contains("Phone: 61 18 97 26") && en.contains("Class application fault: the model is"), "{en}");
    assert!(
        en.contains("Report from randi.kristiansen@gjovik.kommune.no") && en.contains("Acknowledgement queued to"),
        "{en}"
    );
    assert!(page.contains("/thumbnail\" alt="), "the screenshot has a thumbnail");
    // A mail whose attempt was cut off after it may have reached the server says so.
    const TWICE: &str = "Kan ha kommet fram to ganger";
    assert!(!page.contains(TWICE), "no mail is marked before any attempt was cut off");
    crate::support::exec(&app.database_url, "UPDATE outbox SET maybe_sent = TRUE WHERE kind = 'routing'").await;
    let page = text(app.get(&format!("/tickets/{n}"), Some(&s)).await).await;
    assert_eq!(page.matches(TWICE).count(), 1, "the routing mail is marked, the acknowledgement not");

    let outcome = app.state.desk.ingest(HOSTILE.as_bytes(), None).await.expect("ingest");
    let routedesk::desk::Outcome::Ticket { number, .. } = outcome else { panic!("{outcome:?}") };
    let res = app.get(&format!("/tickets/{number}"), Some(&s)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(page.contains("Fakturaen feiler."), "the text is shown");
    assert!(page.contains("Feil i faktura &#60;script&#62;"), "the subject is escaped");
    for bad in [
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "tracker.example",
        "<iframe",
        "evil.example",
        "<form action=\"https",
    ] {
        assert!(!page.contains(bad), "{bad:?} must not reach the page");
    }
}

async fn files_are_served_safely(db: Db) {
    let app = App::new(db).await;
    let svg = "From: Kari <kari.rohne@sondre-land.kommune.no>\r\nTo: x@y.no\r\nSubject: Feil i faktura\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSe vedlegg\r\n--b\r\n\
Content-Type: image/svg+xml; name=\"bilde.svg\"\r\nContent-Disposition: attachment; filename=\"../../bilde\\\"\r\nX.svg\"\r\n\r\n\
<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>\r\n--b--\r\n";
    let n = app.ingest(&["01-gjovik-lonn-complete.eml"]).await.remove(0);
    let routedesk::desk::Outcome::Ticket { number: svg_ticket, .. } =
        app.state.desk.ingest(svg.as_bytes(), None).await.expect("ingest")
    else {
        panic!("ticket")
    };
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    let png = store.attachments_of(t.id).await.expect("files").into_iter().find(|a| a.screenshot).expect("screenshot");
    let res = app.get(&format!("/tickets/{n}/files/{}?inline=1", png.id), Some(&s)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"image/png"[..]));
    assert!(
        res.headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("inline"))
    );
    let res = app.get(&format!("/tickets/{n}/files/{}", png.id), Some(&s)).await;
    assert!(
        res.headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment"))
    );

    let t = store.ticket_by_number(&svg_ticket).await.expect("q").expect("t");
    let f = store.attachments_of(t.id).await.expect("files").remove(0);
    let thumb = app.get(&format!("/tickets/{svg_ticket}/files/{}/thumbnail", f.id), Some(&s)).await;
    assert_eq!(thumb.status(), StatusCode::NOT_FOUND, "a file that is no raster picture has no thumbnail");
    let res = app.get(&format!("/tickets/{svg_ticket}/files/{}?inline=1", f.id), Some(&s)).await;
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"application/octet-stream"[..]),
        "SVG is never shown inline"
    );
    let disposition =
        res.headers().get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
    assert!(
        !disposition.contains('/') && !disposition.contains('\\') && disposition.matches('"').count() == 2,
        "no path or quote from the name: {disposition}"
    );
    assert!(
        res.headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("sandbox"))
    );
}

async fn the_tester_and_the_dashboard_work(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(CORPUS).await;
    let s = app.sign_in("kari").await;
    let eml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/reports/10-gjovik-citrix-henger-visma.eml"),
    )
    .expect("fixture");
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"eml\"\r\n\r\n{eml}\r\n--{boundary}--\r\n",
        s.csrf
    );
    let req = Request::post("/tester")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, format!("rd_session={}", s.cookie))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .expect("req");
    let before = app.state.desk.store().count(routedesk::store::Counted::Tickets).await.expect("count");
    let page = text(app.send(req).await).await;
    assert!(page.contains("Drift / IT (sikkerhet"), "the decision is shown, in bokmål: {page}");
    assert!(page.contains("Automatisk svar") && page.contains("Haster"), "with every field named in bokmål");
    for english in ["confidence", "urgent / privacy", "<th>to</th>", "<th>held</th>", "class operations"] {
        assert!(!page.contains(english), "{english:?} on the bokmål tester");
    }
    assert!(page.contains("pureservice@gjovik.kommune.no"));
    assert_eq!(
        app.state.desk.store().count(routedesk::store::Counted::Tickets).await.expect("count"),
        before,
        "no ticket is made"
    );

    let dash = text(app.get("/dashboard", Some(&s)).await).await;
    assert!(dash.contains("<svg class=\"chart\""), "a chart");
    assert!(
        dash.contains("<span class=\"big\">9</span>"),
        "nine open tickets: {}",
        &dash[dash.find("cards").unwrap_or(0)..][..400.min(dash.len())]
    );
    assert!(dash.contains("<td>Gjøvik kommune</td><td>6</td>"), "per municipality");

    // The dashboard reads the kept per-day counts: they follow a ticket as staff resolve it.
    app.post(&format!("/tickets/{}/status", n[7]), Some(&s), &[("csrf", &s.csrf), ("status", "resolved")]).await;
    let dash = text(app.get("/dashboard", Some(&s)).await).await;
    assert!(dash.contains("<span class=\"big\">8</span>"), "eight open tickets after one is resolved");
    assert!(dash.contains("<td>Gjøvik kommune</td><td>6</td>"), "still six from Gjøvik: resolved tickets count there");
}

/// A report whose sender failed DMARC at our own receiving server: the ticket says so in words, and
/// the verdict is shown beside them; a verified sender's ticket has no such warning.
async fn a_sender_our_server_could_not_verify_is_marked(db: Db) {
    let app = App::new(db).await;
    let raw = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports/01-gjovik-lonn-complete.eml"),
    )
    .expect("fixture");
    let forged = [
        b"Authentication-Results: mx.gjovik.kommune.no; dmarc=fail header.from=gjovik.kommune.no\r\n".as_slice(),
        &raw,
    ]
    .concat();
    let n = match app.state.desk.ingest(&forged, None).await.expect("ingest") {
        routedesk::desk::Outcome::Ticket { number, .. } => number,
        other => panic!("{other:?}"),
    };
    let ok = app.ingest(&["02-ostre-toten-faktura-complete.eml"]).await.remove(0);
    let s = app.sign_in("kari").await;
    let page = text(app.get(&format!("/tickets/{n}"), Some(&s)).await).await;
    assert!(page.contains("Uverifisert avsender") && page.contains("dmarc=fail"), "{page}");
    let page = text(app.get(&format!("/tickets/{ok}"), Some(&s)).await).await;
    assert!(!page.contains("Uverifisert avsender"));
}

/// A search of thousands of matches and one of a few (on PostgreSQL: looked up once, then read by
/// key; the thousands walked down the key) page newest first without gaps or repeats, and count
/// exactly up to the limit and as partial beyond it.
async fn many_matches_and_few_are_paged_and_counted_alike(db: Db) {
    use routedesk::store::TicketFilter;
    let app = App::new(db).await;
    app.ingest(&CORPUS[..2]).await;
    // 2,500 tickets with a word of their own, one in 250 (spread across the newest 2,000 and the
    // rest) with a rarer one; every other of those resolved.
    add_tickets(
        &app,
        2500,
        "CASE WHEN i % 500 = 0 THEN 'resolved' ELSE 'triage' END",
        "CASE WHEN i % 250 = 0 THEN 'Massefeil tidvis' ELSE 'Massefeil' END",
        "'Skriveren står.'",
    )
    .await;
    let store = app.state.desk.store();
    let walk = |q: &'static str| async move {
        let (mut seen, mut before) = (Vec::<String>::new(), None);
        loop {
            let f = TicketFilter { search: Some(q.into()), ..Default::default() };
            let page = store.ticket_page(&f, before, 4).await.expect("page");
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            seen.extend(page.into_iter().map(|t| t.number));
            if seen.len() >= 12 {
                break;
            }
        }
        seen
    };
    let expected = |every: u32, n: usize| -> Vec<String> {
        (1..=2500u32).rev().filter(|i| i % every == 0).take(n).map(|i| format!("RD-2020-{}", 100_000 + i)).collect()
    };
    assert_eq!(walk("tidvis").await, expected(250, 10), "the few, newest first, each once, through three pages");
    assert_eq!(walk("massefeil").await, expected(1, 12), "the many, newest first, three pages");
    let counts = |q: &'static str| async move {
        store.facets(&TicketFilter { search: Some(q.into()), ..Default::default() }).await.expect("counts")
    };
    let few = counts("tidvis").await;
    assert_eq!((few.total, few.capped), (10, false), "the few counted exactly");
    let resolved = few.status.iter().find(|c| c.value == TicketStatus::Resolved).map(|c| c.tickets);
    assert_eq!(resolved, Some(5), "and by status: {:?}", few.status);
    let many = counts("massefeil").await;
    assert!(many.capped && many.total > 1000, "the many counted only as more than the limit: {}", many.total);
    let together = counts("tidvis skriveren gjovik").await;
    assert_eq!(together.total, 10, "words in subject, text and reporter together");
    assert!(walk("tidvis ukjentord").await.is_empty(), "a word no ticket has: nothing");
}

/// A word dense among the newest tickets and sparse below them (on PostgreSQL: the newest 2,000
/// read in order, then a stretch below walked down the key, then the full-text index for the rest)
/// pages newest first without gaps or repeats and counts exactly.
async fn a_word_thick_among_the_newest_and_thin_below_is_paged_and_counted_exactly(db: Db) {
    use routedesk::store::TicketFilter;
    let app = App::new(db).await;
    app.ingest(&CORPUS[..2]).await;
    // 8,000 tickets after the two: `tett` in every fourth of the newest 2,000, in one of the next
    // 4,000 and in ten far below; `spredt` in the newest 20, two more of the newest 2,000 below
    // those, one in the stretch below them and one far below. Every eighth resolved.
    add_tickets(
        &app,
        8000,
        "CASE WHEN i % 8 = 0 THEN 'resolved' ELSE 'triage' END",
        "'Ujevn'",
        "'Skriveren står' \
         || CASE WHEN (i > 6000 AND i % 4 = 0) OR i = 5000 OR (i <= 1000 AND i % 100 = 0) THEN ' tett' ELSE '' END \
         || CASE WHEN i > 7980 OR i IN (7000, 6500, 5500, 1000) THEN ' spredt' ELSE '' END",
    )
    .await;
    let store = app.state.desk.store();
    // On PostgreSQL the way a search reads depends on what the column's statistics foretell of
    // its words (none yet, then `tett` in 6 % of the tickets): the same answers either way.
    for analyzed in [false, true] {
        if analyzed && db == Db::Postgres {
            crate::support::exec(&app.database_url, "ANALYZE tickets").await;
        }
        let (mut seen, mut before) = (Vec::<String>::new(), None);
        // A new filter each time: a filter keeps what its search was worked out to.
        let spredt = || TicketFilter { search: Some("spredt".into()), ..Default::default() };
        for _ in 0..10 {
            let page = store.ticket_page(&spredt(), before, 4).await.expect("page");
            let Some(last) = page.last() else { break };
            before = Some(last.id);
            seen.extend(page.into_iter().map(|t| t.number));
        }
        let expected: Vec<String> = (7981..=8000u32)
            .rev()
            .chain([7000, 6500, 5500, 1000])
            .map(|i| format!("RD-2020-{}", 100_000 + i))
            .collect();
        assert_eq!(seen, expected, "every match, newest first, each once, through six pages ({analyzed})");
        let spread = store.facets(&spredt()).await.expect("counts");
        assert_eq!((spread.total, spread.capped), (24, false), "all counted ({analyzed})");
        let tett =
            store.facets(&TicketFilter { search: Some("tett".into()), ..Default::default() }).await.expect("counts");
        assert_eq!((tett.total, tett.capped), (511, false), "the newest, the stretch and far below ({analyzed})");
        let resolved = tett.status.iter().find(|c| c.value == TicketStatus::Resolved).map(|c| c.tickets);
        assert_eq!(resolved, Some(256), "and by status ({analyzed}): {:?}", tett.status);
    }
}

/// `n` synthetic tickets after those there are (`i` from 1, oldest first), all from Gjøvik's Ola
/// Hansen; their status, subject and text are SQL expressions of `i`.
async fn add_tickets(app: &App, n: u32, status: &str, subject: &str, body: &str) {
    crate::support::exec(
        &app.database_url,
        &format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO tickets (number, status, class, confidence, municipality, urgent, privacy, missing, \
             subject, reporter, reporter_name, route_to, route_cc, reasons, created_at, updated_at, body) \
             SELECT 'RD-2020-' || (100000 + i), {status}, 'operations', 0.8, 'gjovik', FALSE, FALSE, '', {subject}, \
             'ola.hansen@gjovik.kommune.no', 'Ola Hansen', 'hhd@gjovik.kommune.no', '', 'synthetic', \
             '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z', {body} FROM s"
        ),
    )
    .await;
}
