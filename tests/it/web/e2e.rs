//! The web view in real headless Chromium (Debian's `chromium`, driven by Playwright), on a running
//! service with the real mail rig: sign in, filter the log, open a ticket and see its screenshot,
//! change its municipality and re-route it — and the new contact receives the routing mail.
//! Screenshots of the main pages go to `docs/screenshots/` when `ROUTEDESK_SCREENSHOTS` is set.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::mail::{Report, inbox_with, real_screenshot, send};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, unique};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_reroutes_a_ticket_in_a_real_browser() {
    crate::support::level::needs!(Rig, Browser);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc, store) = super::spawn_with_kari().await;

    // A realistic log around the ticket of the walk: fixture reports from the whole region.
    for f in [
        "02-ostre-toten-faktura-complete",
        "13-sondre-land-skriver",
        "17-gjovik-glemt-passord",
        "26-gjovik-haster-lonnskjoring",
        "31-gjovik-lonnsslipp-feil-person",
        "37-ostre-toten-mangler-telefon",
        "20-nordre-land-ny-bruker-nynorsk",
        "57-ukjent-avsender-gmail",
        "60-autosvar-auto-submitted",
    ] {
        let raw =
            std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/reports/{f}.eml")))
                .expect("fixture");
        crate::support::mail::append(&hd.address, "INBOX", &raw).await;
    }
    // A short reference in the subject finds the ticket and its mail again.
    let id = unique("");
    let token = format!("ref {}", &id[id.len() - 6..]);
    let mut report = Report::complete("", &hd.address);
    report.subject = format!("Feil ved lønnskjøring: lønnsart 1120 beregnes ikke ({token})");
    report.message_id = format!("{id}@gjovik.kommune.no");
    report.screenshot_png = Some(real_screenshot());
    send(&report.to_bytes(), report.from, &hd.address).await;
    eventually("every report a ticket", WAIT, || async {
        (store.count(routedesk::store::Counted::Tickets).await.ok()? == 9).then_some(())
    })
    .await;

    let scratch = crate::support::scratch::temp_dir("routedesk-shots-");
    let shots = shots_folder(scratch.path());
    let addr = svc.web_addr.expect("the web view listens");
    let shots_dir = shots.display().to_string();
    browse(
        "walkthrough.mjs",
        &[
            ("RD_BASE", &format!("http://{addr}")),
            ("RD_USER", "kari"),
            ("RD_PASSWORD", super::PASSWORD),
            ("RD_TOKEN", &token),
            ("RD_SHOTS", &shots_dir),
        ],
    )
    .await;
    for name in ["login", "ticket-log", "ticket", "dashboard", "set-aside", "policy-tester"] {
        assert!(shots.join(format!("{name}.png")).is_file(), "screenshot {name}.png");
    }

    let routed = eventually("the routing mail at the new contact", WAIT, || async {
        let m = inbox_with("anne.m.t.eng@nordre-land.kommune.no", &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].cc, ["pureservice@gjovik.kommune.no"]);
    assert!(routed[0].attachments.iter().any(|(ct, _, _)| ct == "image/png"), "the screenshot goes along");
    svc.stop(WAIT).await.expect("stops");
}

/// Signing in from a link with a hostile `next` (`/%09/evil.example` and kin) ends on our own site,
/// and the browser asks no other host for anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_from_a_hostile_link_stays_on_our_site_in_a_real_browser() {
    crate::support::level::needs!(Browser);
    let app = super::App::new(Db::Sqlite).await;
    let served = Served::start(&app).await;
    let addr = served.addr;
    browse(
        "redirect.mjs",
        &[("RD_BASE", &format!("http://{addr}")), ("RD_USER", "kari"), ("RD_PASSWORD", super::PASSWORD)],
    )
    .await;
    served.stop().await;
}

/// Every page passes axe-core's WCAG 2.1 AA rules at 1280 and 375 px and reflows at 320 px
/// (`a11y.mjs`), with data on every page: tickets of the whole region, an incident, a privacy case,
/// a robot's mail set aside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_reflows_in_a_real_browser() {
    crate::support::level::needs!(Browser);
    let app = super::App::new(Db::Sqlite).await;
    let [gjovik, ..] = crate::incidents::one_fault_in_four_municipalities(&app).await;
    let prv = app.state.desk.flag_privacy(&gjovik, "kari (helpdesk)").await.expect("privacy");
    let robot = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/real-world/ignored-auto-reply-out-of-office.eml");
    app.state.desk.ingest(&std::fs::read(robot).expect("fixture"), None).await.expect("ingest");
    let store = app.state.desk.store();
    let t = store.ticket_by_number(&gjovik).await.expect("q").expect("ticket");
    let incident = store.incident_of_ticket(t.id).await.expect("q").expect("an incident").number;
    let pages = [
        "/tickets".to_string(),
        "/tickets?class=application&q=visma".into(),
        format!("/tickets/{gjovik}"),
        "/dashboard".into(),
        "/incidents".into(),
        format!("/incidents/{incident}"),
        "/privacy".into(),
        format!("/privacy/{prv}"),
        "/mail".into(),
        "/tester".into(),
        "/learning".into(),
        "/audit".into(),
    ]
    .join(",");
    let served = Served::start(&app).await;
    let addr = served.addr;
    let log = browse(
        "a11y.mjs",
        &[
            ("RD_BASE", &format!("http://{addr}")),
            // An administrator sees every page, the audit log included.
            ("RD_USER", "admin"),
            ("RD_PASSWORD", super::PASSWORD),
            ("RD_PAGES", &pages),
            ("RD_PUBLIC", "/login,/status"),
        ],
    )
    .await;
    assert!(log.contains("28 page views checked"), "{log}");
    served.stop().await;
}

/// The main flow by keyboard alone (`keyboard.mjs`): sign in, filter, open a ticket, reclassify,
/// re-route — Tab to move, Enter and the arrow keys to act, the focus always visible.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_flow_works_by_keyboard_alone_in_a_real_browser() {
    crate::support::level::needs!(Browser);
    let app = super::App::new(Db::Sqlite).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "10-gjovik-citrix-henger-visma.eml"]).await.remove(0);
    let served = Served::start(&app).await;
    let addr = served.addr;
    let log = browse(
        "keyboard.mjs",
        &[
            ("RD_BASE", &format!("http://{addr}")),
            ("RD_USER", "kari"),
            ("RD_PASSWORD", super::PASSWORD),
            ("RD_TICKET", &n),
        ],
    )
    .await;
    assert!(log.contains("by keyboard alone"), "{log}");
    let t = app.state.desk.store().ticket_by_number(&n).await.expect("q").expect("ticket");
    assert_eq!(t.class, routedesk::domain::Class::Operations, "reclassified by keyboard");
    served.stop().await;
}

/// Staff's flows through the incidents, privacy and status pages (`flows.mjs`): a suspected
/// incident confirmed for the public status page and updated, seen there by a visitor; a privacy
/// case appointed, assessed, reported and notified — each step checked in the database too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_privacy_and_status_pages_work_as_flows_in_a_real_browser() {
    crate::support::level::needs!(Browser);
    let app = super::App::new(Db::Sqlite).await;
    let [gjovik, ..] = crate::incidents::one_fault_in_four_municipalities(&app).await;
    let n = app.ingest(&["31-gjovik-lonnsslipp-feil-person.eml"]).await.remove(0);
    let store = app.state.desk.store();
    let t = store.ticket_by_number(&gjovik).await.expect("q").expect("ticket");
    let incident = store.incident_of_ticket(t.id).await.expect("q").expect("an incident").number;
    let breach = store.ticket_by_number(&n).await.expect("q").expect("ticket");
    let prv = store.privacy_of_ticket(breach.id).await.expect("q").expect("a privacy case");
    let served = Served::start(&app).await;
    let log = browse(
        "flows.mjs",
        &[
            ("RD_BASE", &format!("http://{}", served.addr)),
            ("RD_USER", "admin"),
            ("RD_PASSWORD", super::PASSWORD),
            ("RD_INCIDENT", &incident),
            ("RD_PRIVACY", &prv),
            ("RD_COORDINATOR", "kari"),
        ],
    )
    .await;
    assert!(log.contains("flows: incidents, status page and privacy case ok"), "{log}");
    let i = store.incident_by_number(&incident).await.expect("q").expect("incident");
    assert_eq!(i.state, routedesk::domain::IncidentState::Confirmed);
    let p = store.privacy_by_number(&prv).await.expect("q").expect("case");
    assert_eq!((p.stage, p.coordinator.as_deref()), (routedesk::domain::PrivacyStage::Assessing, Some("kari")));
    assert!(p.authority_notified_at.is_some() && p.personal_data == "Lønn og kontonummer", "{p:?}");
    served.stop().await;
}

/// The vendor case end to end on the rig: the routing mail asks for the vendor's case number, the
/// system administrator answers it by mail, and in Chromium (`vendor-case.mjs`) staff find the
/// ticket by its case, see the number, tick "open for all in the region" and press "resolved by
/// the vendor" — and the reporter receives the notice with the case number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vendor_case_is_followed_to_its_end_in_a_real_browser() {
    crate::support::level::needs!(Rig, Browser);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc, store) = super::spawn_with_kari().await;
    let token = unique("VB");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    let contact = crate::service::GJOVIK_CONTACTS[2];
    let routing = crate::vendor_case::mail::mail_with(contact, &token, "Feilmelding").await;
    crate::vendor_case::mail::mail_with(report.from, &token, "Mottatt").await;
    let number = routing.subject[1..15].to_string();
    let answer = crate::vendor_case::mail::reply(contact, &hd.address, &routing, "Meldt. Visma-sak 87654321");
    send(&answer.to_bytes(), contact, &hd.address).await;
    let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
    eventually("the case number from the administrator's answer", WAIT, || async {
        store.vendor_case_of(t.id).await.ok()?.and_then(|c| c.case_number)
    })
    .await;

    let scratch = crate::support::scratch::temp_dir("routedesk-shots-");
    let shots = shots_folder(scratch.path());
    let addr = svc.web_addr.expect("the web view listens");
    browse(
        "vendor-case.mjs",
        &[
            ("RD_BASE", &format!("http://{addr}")),
            ("RD_USER", "kari"),
            ("RD_PASSWORD", super::PASSWORD),
            ("RD_TICKET", &number),
            ("RD_CASE", "87654321"),
            ("RD_CONTACT", contact),
            ("RD_SHOTS", &shots.display().to_string()),
        ],
    )
    .await;
    assert!(shots.join("vendor-case.png").is_file(), "screenshot vendor-case.png");
    let told = crate::vendor_case::mail::mail_with(report.from, &token, "Løst").await;
    assert!(told.text.contains("løst hos Visma (sak 87654321)"), "{}", told.text);
    let case = store.vendor_case_of(t.id).await.expect("q").expect("case");
    assert!(case.open_to_region && case.resolved_by.as_deref().is_some_and(|b| b.starts_with("kari")), "{case:?}");
    svc.stop(WAIT).await.expect("stops");
}

/// Where a browser walk's screenshots go: `docs/screenshots/` when `ROUTEDESK_SCREENSHOTS` is
/// set, else `scratch`.
fn shots_folder(scratch: &std::path::Path) -> PathBuf {
    if std::env::var_os("ROUTEDESK_SCREENSHOTS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        scratch.to_path_buf()
    }
}

/// The web view of an [`super::App`] on a port of its own, for the browser.
struct Served {
    addr: std::net::SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Served {
    async fn start(app: &super::App) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(routedesk::web::serve_on(listener, app.state.clone(), rx));
        Served { addr, stop, server }
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.server.await.expect("joins").expect("serves");
    }
}

/// Runs one of the Chromium scripts in `tests/e2e/`; fails the test with its output if it fails,
/// and gives the output back otherwise.
pub async fn browse(script: &str, vars: &[(&str, &str)]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/e2e").join(script))
        .envs(vars.iter().copied())
        .output()
        .await
        .expect("node runs (scripts/test installs it and the e2e packages)");
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{script} failed:\n{log}");
    log
}
