//! Test plan 32, MIME limits, through the real intake: each hostile mail is put into the helpdesk
//! folder of a freshly started `routedesk serve` (the binary, so its CPU time and memory are its
//! own), between a report before it and one after. Each must be quarantined by a limit with its
//! reason, or become a ticket, within 5 s of CPU time and 256 MB above the memory in use before it
//! came — taking it in, recording it and sending what it causes; the report after it must still
//! be taken in; and staff must still be able to read it: a quarantined mail's raw text at
//! `/mail/{id}/raw`, a ticket's page.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use routedesk::config::WebConfig;
use routedesk::desk::Desk;
use routedesk::domain::{Role, Verdict};
use routedesk::store::{Counted, Store};
use routedesk::web::AppState;

use crate::service::on_both_databases;
use crate::support::mail::{Report, append, base64_lines, inbox_emptied};
use crate::support::process::Serve;
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, count, eventually, unique};
use crate::web::{App, PASSWORD, text};

const WAIT: Duration = Duration::from_secs(120);
const CPU_BUDGET_SECS: f64 = 5.0;
const MEMORY_BUDGET_MB: f64 = 256.0;
const SIG: &str = "Mvh Kari\r\nDir. tlf. 61 12 64 26 - Mobil: 951 17 655\r\n";

on_both_databases!(hostile_mime_is_set_aside_or_taken_in_within_budget_and_stays_readable);

/// What a case must become.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Ticket,
    /// Quarantined, with these words in the reason.
    Quarantined(&'static str),
}

/// A hostile mail: `head` is its first header lines (From, To, Subject, Message-ID).
struct Case {
    name: &'static str,
    expect: Expect,
    make: fn(head: &str) -> String,
}

const CASES: &[Case] = &[
    Case { name: "26 MB, over the limit", expect: Expect::Quarantined("the limit is 26214400"), make: over_the_limit },
    Case { name: "10,000 MIME parts", expect: Expect::Quarantined("more than 500 MIME parts"), make: many_parts },
    Case { name: "multipart nested 100 deep", expect: Expect::Quarantined("deep"), make: deep_multipart },
    Case { name: "message/rfc822 nested 5 deep", expect: Expect::Ticket, make: nested_messages },
    Case { name: "a header line of 1 MB", expect: Expect::Ticket, make: long_header },
    Case { name: "10,000 header fields", expect: Expect::Ticket, make: many_headers },
    Case { name: "a 5 MB base64 blob on one line", expect: Expect::Ticket, make: one_line_blob },
    Case { name: "HTML with 50,000 links", expect: Expect::Ticket, make: many_links },
    Case { name: "HTML with 8 MB of whitespace", expect: Expect::Ticket, make: whitespace },
];

fn with_part(head: &str, part: &str) -> String {
    format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
         Faktura feiler.\r\n{SIG}--b\r\n{part}\r\n--b--\r\n"
    )
}

fn over_the_limit(head: &str) -> String {
    let part = format!(
        "Content-Type: application/octet-stream; name=\"logg.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        base64_lines(&vec![7u8; 20 * 1024 * 1024])
    );
    with_part(head, &part)
}

fn many_parts(head: &str) -> String {
    let parts: String = (0..10_000).map(|i| format!("Content-Type: text/plain\r\n\r\ndel {i}\r\n--b\r\n")).collect();
    with_part(head, parts.trim_end_matches("\r\n--b\r\n"))
}

fn deep_multipart(head: &str) -> String {
    let mut m = format!("{head}MIME-Version: 1.0\r\n");
    for i in 0..100 {
        m.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    m + "Content-Type: text/plain\r\n\r\nbunn\r\n"
}

/// A report forwarded as an attachment, that forward forwarded again, five times over.
fn nested_messages(head: &str) -> String {
    let mut inner = format!(
        "From: Kari <kari.rohne@sondre-land.kommune.no>\r\nSubject: Faktura feiler\r\n\r\nFaktura feiler.\r\n{SIG}"
    );
    for level in 1..=5 {
        let top = if level == 5 { head.to_string() } else { format!("Subject: VS: nivå {level}\r\n") };
        inner = format!(
            "{top}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=n{level}\r\n\r\n--n{level}\r\n\
             Content-Type: text/plain\r\n\r\nVideresendt, nivå {level}.\r\n{SIG}--n{level}\r\nContent-Type: message/rfc822\r\n\r\n\
             {inner}\r\n--n{level}--\r\n"
        );
    }
    inner
}

fn long_header(head: &str) -> String {
    format!("{head}X-Long: {}\r\n\r\nLønn feiler.\r\n{SIG}", "lønn ".repeat(200_000))
}

fn many_headers(head: &str) -> String {
    let fields: String = (0..10_000).map(|i| format!("X-Felt-{i}: verdi {i}\r\n")).collect();
    format!("{head}{fields}\r\nLønn feiler.\r\n{SIG}")
}

fn one_line_blob(head: &str) -> String {
    use base64::Engine as _;
    let data: Vec<u8> = (0..5 * 1024 * 1024 / 4 * 3).map(|i: usize| (i * 31 % 251) as u8).collect();
    let blob = base64::engine::general_purpose::STANDARD.encode(data);
    let part = format!(
        "Content-Type: application/octet-stream; name=\"logg.bin\"\r\nContent-Disposition: attachment; filename=\"logg.bin\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{blob}"
    );
    with_part(head, &part)
}

fn html(head: &str, body: &str) -> String {
    format!(
        "{head}MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Faktura feiler.</p>{body}\
         <p>Mvh Kari, tlf. 61 12 64 26, mobil 951 17 655</p></body></html>\r\n"
    )
}

fn many_links(head: &str) -> String {
    html(head, &(0..50_000).map(|i| format!("<a href=\"https://example.no/{i}\">lenke {i}</a> ")).collect::<String>())
}

fn whitespace(head: &str) -> String {
    html(head, &format!("{}\r\n", " ".repeat(998)).repeat(8 * 1024))
}

/// What one case cost the process that took it in.
struct Cost {
    cpu_secs: f64,
    peak_mb: f64,
}

/// Puts `raw` into the folder and waits until it is recorded, filed and its mail sent.
async fn take_in(hd: &Helpdesk, store: &Store, raw: &[u8]) {
    let before = store.count(Counted::Inbound).await.expect("count");
    append(&hd.address, "INBOX", raw).await;
    eventually("the mail recorded", WAIT, || async {
        (store.count(Counted::Inbound).await.ok()? > before).then_some(())
    })
    .await;
    inbox_emptied(&hd.address, WAIT).await;
    let url = hd.config.database_url.clone();
    eventually("its mail sent", WAIT, || async {
        (count(&url, "SELECT COUNT(*) FROM outbox WHERE status = 'queued'").await == 0).then_some(())
    })
    .await;
}

/// Runs one case in a fresh service: a report first (the service warmed up and working), the case
/// measured, a report after it.
async fn run(hd: &Helpdesk, store: &Store, case: &Case, head: &str) -> Cost {
    let config = hd.config_file();
    let serve = Serve::start(&config, &unique("mime-"));
    let report = |tag: &str| Report::complete(&unique(tag), &hd.address).to_bytes();
    take_in(hd, store, &report("M")).await;
    serve.reset_peak();
    let (cpu, rss) = (serve.cpu_secs(), serve.rss_mb());
    take_in(hd, store, (case.make)(head).as_bytes()).await;
    let cost = Cost { cpu_secs: serve.cpu_secs() - cpu, peak_mb: serve.peak_rss_mb() - rss };
    let tickets = store.count(Counted::Tickets).await.expect("count");
    take_in(hd, store, &report("N")).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), tickets + 1, "{}: the next report", case.name);
    serve.terminate();
    cost
}

async fn hostile_mime_is_set_aside_or_taken_in_within_budget_and_stays_readable(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(db).await;
    let store = hd.store().await;
    let mut seen = Vec::new();
    let mut figures = Vec::new();
    for case in CASES {
        let token = unique("L");
        let id = format!("{token}@sondre-land.kommune.no");
        let head = format!(
            "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\r\nTo: {}\r\nSubject: {token} Faktura feiler\r\n\
             Message-ID: <{id}>\r\n",
            hd.address
        );
        let cost = run(&hd, &store, case, &head).await;
        figures.push(format!("{}: {:.2} s CPU, peak +{:.0} MB", case.name, cost.cpu_secs, cost.peak_mb));
        assert!(cost.cpu_secs < CPU_BUDGET_SECS, "{}: {:.2} s of CPU", case.name, cost.cpu_secs);
        assert!(cost.peak_mb < MEMORY_BUDGET_MB, "{}: {:.0} MB more at its peak", case.name, cost.peak_mb);
        seen.push((case, token, id));
    }
    eprintln!("mime limits ({db:?}):\n  {}", figures.join("\n  "));

    // Staff read every one: a quarantined mail as its raw text, a ticket on its page.
    let cfg = hd.config.clone();
    let state =
        AppState::new(Desk::new(&cfg, store.clone()).await.expect("desk"), Arc::default(), &WebConfig::default())
            .expect("web state");
    let hash = routedesk::secret::hash_password(PASSWORD).expect("hash");
    store.create_user("kari", "Kari Helpdesk", Role::Helpdesk, None, &hash).await.expect("user");
    let app = App::serving(state, cfg.database_url.clone());
    let kari = app.sign_in("kari").await;
    let set_aside = text(app.get("/mail", Some(&kari)).await).await;
    for (case, token, id) in &seen {
        match case.expect {
            Expect::Quarantined(why) => {
                // A mail that could not be read has no subject or sender on record: found by its bytes.
                let mut found = None;
                for m in store.untracked_messages(100).await.expect("set-aside mail") {
                    let raw = store.message_raw(m.id).await.expect("read").unwrap_or_default();
                    if String::from_utf8_lossy(&raw).contains(id.as_str()) {
                        found = Some(m);
                    }
                }
                let m = found.unwrap_or_else(|| panic!("{}: set aside", case.name));
                assert_eq!(m.verdict, Verdict::Quarantined, "{}", case.name);
                assert!(reason_text(&m).contains(why), "{}: {:?}", case.name, m.reason);
                assert!(set_aside.contains(&format!("href=\"/mail/{}/raw\"", m.id)), "{}: listed", case.name);
                let res = app.get(&format!("/mail/{}/raw", m.id), Some(&kari)).await;
                assert_eq!(res.status(), StatusCode::OK, "{}", case.name);
                let h = res.headers();
                assert_eq!(h.get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"text/plain; charset=utf-8"[..]));
                assert_eq!(h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
                let csp = h.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).unwrap_or_default();
                assert!(csp.contains("sandbox"), "{}: {csp}", case.name);
                let kept = store.message_raw(m.id).await.expect("read").expect("its bytes");
                let shown = text(res).await;
                assert_eq!(shown.as_bytes(), kept.as_slice(), "{}: the raw text as kept", case.name);
                assert!(shown.contains(token.as_str()), "{}: its header is there", case.name);
                let log = store.audit_recent(10).await.expect("audit log");
                let object = format!("mail/{}", m.id);
                assert!(log.iter().any(|r| r.action == "view-mail" && r.object == object), "{}: audited", case.name);
            }
            Expect::Ticket => {
                let tickets = store.tickets(100).await.expect("tickets");
                let t = tickets.iter().find(|t| t.subject.contains(token.as_str()));
                let t = t.unwrap_or_else(|| panic!("{}: a ticket", case.name));
                let res = app.get(&format!("/tickets/{}", t.number), Some(&kari)).await;
                assert_eq!(res.status(), StatusCode::OK, "{}: the ticket's page", case.name);
                assert!(text(res).await.contains("Faktura feiler"), "{}: the report on its page", case.name);
            }
        }
    }
}
