//! Hostile mail and hostile files (test plan 28 and 30). The corpus in `tests/fixtures/xss/` (made by
//! `make_xss.py` there) goes through the running service on the mail rig into tickets; `xss.mjs`
//! opens every ticket page with its HTML version in headless Chromium — once as served, CSP and
//! all, and once with the CSP bypassed, so the sanitiser is tested on its own — and opens every
//! attachment: no script runs, no dialog opens, no request leaves the page's origin, the page keeps
//! its shape. The file responses' headers are checked through the router on both databases.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::{StatusCode, header};
use routedesk::store::Counted;
use serde::Deserialize;
use serde_json::json;

use super::App;
use crate::service::on_both_databases;
use crate::support::mail::append;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, unique};

const WAIT: Duration = Duration::from_secs(90);

#[derive(Deserialize)]
struct Case {
    file: String,
    marker: String,
    kind: String,
    #[serde(default)]
    files: Vec<Expected>,
}

/// An attachment of the corpus: served as a `download` or, with `?inline=1`, as a `raster` image.
#[derive(Deserialize)]
struct Expected {
    served: String,
    download_name: String,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xss")
}

fn corpus() -> Vec<Case> {
    let index = std::fs::read_to_string(dir().join("index.json")).expect("tests/fixtures/xss/index.json");
    let cases: Vec<Case> = serde_json::from_str(&index).expect("index.json parses");
    assert!(cases.len() >= 30, "the corpus has at least 30 cases");
    cases
}

fn raw(case: &Case) -> Vec<u8> {
    std::fs::read(dir().join(&case.file)).expect("corpus mail")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_mail_runs_no_script_and_loads_nothing_in_a_real_browser() {
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(Db::Sqlite).await;
    let svc = hd.start().await;
    let store = hd.store().await;
    store
        .create_user(
            "kari",
            "Kari Helpdesk",
            routedesk::domain::Role::Helpdesk,
            None,
            &routedesk::secret::hash_password(super::PASSWORD).expect("hash"),
        )
        .await
        .expect("user");
    let cases = corpus();
    for case in &cases {
        append(&hd.address, "INBOX", &raw(case)).await;
    }
    let expected = i64::try_from(cases.len()).expect("count");
    eventually("a ticket per hostile mail", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == expected).then_some(())
    })
    .await;

    let tickets = store.tickets(1000).await.expect("tickets");
    let mut manifest = Vec::new();
    for case in &cases {
        let t = tickets
            .iter()
            .find(|t| t.subject.contains(&case.marker))
            .unwrap_or_else(|| panic!("no ticket for {} ({})", case.marker, case.file));
        let stored = store.attachments_of(t.id).await.expect("files");
        assert_eq!(stored.len(), case.files.len(), "{}: every attachment is kept", case.marker);
        let files: Vec<_> = stored
            .iter()
            .zip(&case.files)
            .map(|(f, e)| json!({"id": f.id, "served": e.served, "download_name": e.download_name}))
            .collect();
        manifest.push(json!({"marker": case.marker, "kind": case.kind, "number": t.number, "files": files}));
    }
    let manifest_file = std::env::temp_dir().join(unique("routedesk-xss-")).with_extension("json");
    std::fs::write(&manifest_file, serde_json::to_vec(&manifest).expect("json")).expect("write manifest");

    let addr = svc.web_addr.expect("the web view listens");
    let base = format!("http://{addr}");
    let cases = manifest_file.display().to_string();
    let vars =
        [("RD_BASE", base.as_str()), ("RD_USER", "kari"), ("RD_PASSWORD", super::PASSWORD), ("RD_CASES", &cases)];
    let log = super::e2e::browse("xss.mjs", &vars).await;
    println!("{log}");
    assert!(log.contains("xss: ok"), "the browser run finished:\n{log}");
    svc.stop(WAIT).await.expect("stops");
}

/// `filename*`'s value decoded (`UTF-8''` then percent-encoded UTF-8).
fn ext_value(v: &str) -> Option<String> {
    let encoded = v.strip_prefix("UTF-8''")?;
    assert!(
        encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)),
        "only attr-chars and escapes in filename*: {encoded}"
    );
    percent_encoding::percent_decode_str(encoded).decode_utf8().ok().map(|s| s.into_owned())
}

async fn files_are_downloads_with_rfc6266_names(db: Db) {
    let app = App::new(db).await;
    let case = corpus().into_iter().find(|c| !c.files.is_empty()).expect("the attachment case");
    let outcome = app.state.desk.ingest(&raw(&case), None).await.expect("ingest");
    let routedesk::desk::Outcome::Ticket { number, .. } = outcome else { panic!("{outcome:?}") };
    let s = app.sign_in("kari").await;
    let store = app.state.desk.store();
    let t = store.ticket_by_number(&number).await.expect("query").expect("ticket");
    let stored = store.attachments_of(t.id).await.expect("files");
    assert_eq!(stored.len(), case.files.len(), "every attachment is kept");

    for (f, want) in stored.iter().zip(&case.files) {
        for inline in [false, true] {
            let path = format!("/tickets/{number}/files/{}{}", f.id, if inline { "?inline=1" } else { "" });
            let res = app.get(&path, Some(&s)).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            let h = |name| res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let what = format!("{path} ({:?} sent as {:?})", want.download_name, f.filename);
            assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
            assert_eq!(h(header::CONTENT_SECURITY_POLICY), "default-src 'none'; sandbox", "{what}");
            let shown_inline = inline && want.served == "raster";
            let (kind, content_type) = (h(header::CONTENT_DISPOSITION), h(header::CONTENT_TYPE));
            if shown_inline {
                assert!(["image/gif", "image/png"].contains(&content_type.as_str()), "{what}: {content_type}");
            } else {
                assert_eq!(content_type, "application/octet-stream", "{what}");
            }
            let disposition = kind.split("; ").collect::<Vec<_>>();
            let [kind, fallback, ext] = disposition[..] else { panic!("{what}: three parts in {disposition:?}") };
            assert_eq!(kind, if shown_inline { "inline" } else { "attachment" }, "{what}");
            let fallback = fallback
                .strip_prefix("filename=\"")
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or_else(|| panic!("{what}: {fallback}"));
            assert!(
                fallback.chars().all(|c| c == ' ' || (c.is_ascii_graphic() && !"\"\\%".contains(c))),
                "{what}: a plain ASCII fallback, got {fallback:?}"
            );
            let name = ext.strip_prefix("filename*=").and_then(ext_value).unwrap_or_else(|| panic!("{what}: {ext}"));
            assert_eq!(name, want.download_name, "{what}: the name survives, without path or direction tricks");
            assert_eq!(fallback.chars().count(), name.chars().count(), "{what}: one fallback character a character");
        }
    }
    // The page lists the files by the names they are saved under.
    let page = super::text(app.get(&format!("/tickets/{number}"), Some(&s)).await).await;
    assert!(page.contains("Rapport æøå ÆØÅ.pdf") && page.contains("fakturafdp.exe"), "names as saved");
    assert!(!page.contains('\u{202E}'), "no direction override reaches the page");
}

on_both_databases!(files_are_downloads_with_rfc6266_names);
