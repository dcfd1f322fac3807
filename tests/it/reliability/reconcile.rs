//! Test plan 15: the periodic reconciliation finds the mail on the server that the ledger lacks —
//! a ledger row lost, a report a person moved to the processed folder before routedesk saw it, a
//! report in the helpdesk folder flagged deleted by another client — in one run, and only those.
//! Staff see them on the "set aside" page and in `/metrics`; a report moved back into the
//! helpdesk folder is taken in and leaves the list.

use std::time::Duration;

use routedesk::store::Counted;
use time::OffsetDateTime;

use crate::retention::sql;
use crate::service::on_both_databases;
use crate::support::mail::{Report, append, append_flagged, folder, move_by_message_id};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, unique};
use crate::web::{App, text};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(a_reconciliation_lists_the_mail_the_ledger_lacks);

/// An out-of-office reply: recorded in the ledger as ignored, filed to Processed.
fn vacation(token: &str, to: &str) -> Vec<u8> {
    format!(
        "From: Per Hansen <per.hansen@gjovik.kommune.no>\r\nTo: {to}\r\nSubject: Fraværsmelding {token}\r\n\
         Auto-Submitted: auto-replied\r\nMessage-ID: <{token}@gjovik.kommune.no>\r\n\
         Date: Fri, 04 Dec 2026 10:00:00 +0100\r\n\r\nJeg er på ferie til mandag.\r\n"
    )
    .into_bytes()
}

/// Waits for a reconciliation that started after `after`; returns what it found (Message-IDs).
async fn run_after(store: &routedesk::store::Store, after: OffsetDateTime) -> Vec<String> {
    eventually("a reconciliation", WAIT, || async {
        let run = store.last_reconcile().await.expect("runs")?;
        (run.started_at > after).then_some(())?;
        assert!(run.error.is_none(), "the run failed: {:?}", run.error);
        Some(())
    })
    .await;
    let mut ids: Vec<String> =
        store.unmatched_mail().await.expect("findings").into_iter().filter_map(|u| u.message_id).collect();
    ids.sort();
    ids
}

async fn a_reconciliation_lists_the_mail_the_ledger_lacks(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.reconcile_secs = 2;
    let store = hd.store().await;
    let token = unique("R");
    let (ok, ooo, moved, deleted) =
        (format!("{token}-ok"), format!("{token}-ooo"), format!("{token}-moved"), format!("{token}-deleted"));
    append(&hd.address, "INBOX", &Report::complete(&ok, &hd.address).to_bytes()).await;
    append(&hd.address, "INBOX", &vacation(&ooo, &hd.address)).await;
    let svc = hd.start().await;
    eventually("both filed", WAIT, || async { (folder(&hd.address, "Processed").await.len() == 2).then_some(()) })
        .await;

    // A run with nothing amiss finds nothing: the two filed mails are both in the ledger.
    let calm = OffsetDateTime::now_utc();
    assert_eq!(run_after(&store, calm).await, Vec::<String>::new(), "nothing is amiss yet");

    // The ledger loses a row; a person files a report before routedesk sees it; another client
    // flags a report in the helpdesk folder as deleted.
    sql(&store, &format!("DELETE FROM messages WHERE message_id LIKE '%{ooo}%'")).await;
    append(&hd.address, "Processed", &Report::complete(&moved, &hd.address).to_bytes()).await;
    append_flagged(&hd.address, "INBOX", &Report::complete(&deleted, &hd.address).to_bytes(), "(\\Deleted)").await;
    let changed = OffsetDateTime::now_utc();
    let found = run_after(&store, changed).await;
    let mut expected: Vec<String> = [&deleted, &moved, &ooo].iter().map(|t| format!("{t}@gjovik.kommune.no")).collect();
    expected.sort();
    assert_eq!(found, expected, "exactly the three mails the ledger lacks");
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "none of them was taken in");

    // Staff see them: the page lists each with its folder, and /metrics counts them.
    let app = App::serving(svc.web.clone(), hd.config.database_url.clone());
    app.add_user("kari", "helpdesk", None).await;
    let kari = app.sign_in("kari").await;
    let page = text(app.get("/mail", Some(&kari)).await).await;
    assert!(page.contains("I postkassen, men ikke i loggen (3)"), "{page}");
    for id in &expected {
        assert!(page.contains(id.as_str()), "{id} on the page");
    }
    assert!(page.contains("Processed (UID"), "the folder is named");
    eventually("the metric", WAIT, || async {
        let m = text(app.get("/metrics", None).await).await;
        m.lines().any(|l| l == "routedesk_reconcile_unmatched 3").then_some(())
    })
    .await;

    // The report moved back into the helpdesk folder is taken in, and leaves the list.
    assert_eq!(move_by_message_id(&hd.address, "Processed", "INBOX", &moved).await, 1);
    eventually("the moved report a ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == 2).then_some(())
    })
    .await;
    let after = OffsetDateTime::now_utc();
    let found = run_after(&store, after).await;
    let mut left: Vec<String> = [&deleted, &ooo].iter().map(|t| format!("{t}@gjovik.kommune.no")).collect();
    left.sort();
    assert_eq!(found, left, "the taken-in report is off the list");
    svc.stop(WAIT).await.expect("stops");
}
