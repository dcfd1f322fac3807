//! The same mail delivered twice (test plan 10): a sender's server retrying after a lost answer, or
//! the helpdesk address both in To and behind a list. Each delivery has its own trace headers; the
//! report still becomes one ticket, is recorded once and routed once.

use std::time::Duration;

use routedesk::store::Counted;

use super::crash::{CONTACT, reports};
use crate::service::on_both_databases;
use crate::support::mail::{folder, inbox_with, send};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(a_mail_delivered_twice_is_one_ticket);

async fn a_mail_delivered_twice_is_one_ticket(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("2X");
    let (from, raw) = reports(&token, &hd.address, 1).remove(0);
    send(&raw, &from, &hd.address).await;
    send(&raw, &from, &hd.address).await;
    // Both copies handled (moved out of the helpdesk folder) before anything is counted.
    let processed = eventually("both deliveries handled", WAIT, || async {
        let p = folder(&hd.address, "Processed").await;
        (p.len() >= 2).then_some(p)
    })
    .await;
    assert_eq!(processed.len(), 2, "both deliveries reached the mailbox and were moved");
    assert!(folder(&hd.address, "INBOX").await.is_empty());
    let store = hd.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "one ticket");
    assert_eq!(store.count(Counted::Inbound).await.expect("count"), 1, "the report recorded once");
    eventually("the routing mail", WAIT, || async { (!inbox_with(CONTACT, &token).await.is_empty()).then_some(()) })
        .await;
    // Sent mail is recorded before it is counted: wait for the outbox to be empty, then count.
    eventually("the outbox emptied", WAIT, || async { (store.outbox_pending().await.ok()? == 0).then_some(()) }).await;
    assert_eq!(inbox_with(CONTACT, &token).await.len(), 1, "routed once");
    svc.stop(WAIT).await.expect("stops");
}

/// The policy for one report sent to two watched mailboxes (say the region's helpdesk and a
/// municipality's, each watched by its own routedesk configuration, with one log on one
/// PostgreSQL database): one ticket, whichever mailbox is read first; the other copy is known by
/// its content and filed without a second ticket or a second routing mail. Three reports, each
/// to both at once, to show it holds every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_to_two_watched_mailboxes_is_one_ticket() {
    crate::support::level::needs!(Rig, Postgres);
    let _rig = RIG_LOCK.read().await;
    let first = crate::support::Helpdesk::new(Db::Postgres).await;
    let mut second = crate::support::Helpdesk::new(Db::Postgres).await;
    second.config.database_url = first.config.database_url.clone();
    let (a, b) = (first.start().await, second.start().await);
    let token = unique("2M");
    let mail = reports(&token, &first.address, 3);
    let t = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(crate::support::rig::ensure().smtp_port)
        .build();
    for (from, raw) in &mail {
        // One SMTP transaction to both mailboxes: two deliveries, each with its own trace headers.
        let to = vec![first.address.parse().expect("to"), second.address.parse().expect("to")];
        let envelope = lettre::address::Envelope::new(Some(from.parse().expect("from")), to).expect("envelope");
        lettre::AsyncTransport::send_raw(&t, &envelope, raw).await.expect("the rig accepts the mail");
    }
    for hd in [&first, &second] {
        eventually("every copy filed", WAIT, || async {
            (folder(&hd.address, "Processed").await.len() == 3).then_some(())
        })
        .await;
    }
    let store = first.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 3, "one ticket per report");
    assert_eq!(store.count(Counted::Inbound).await.expect("count"), 3, "each report recorded once");
    eventually("the routing mail", WAIT, || async { (inbox_with(CONTACT, &token).await.len() >= 3).then_some(()) })
        .await;
    eventually("the outbox emptied", WAIT, || async { (store.outbox_pending().await.ok()? == 0).then_some(()) }).await;
    assert_eq!(inbox_with(CONTACT, &token).await.len(), 3, "each routed once");
    a.stop(WAIT).await.expect("stops");
    b.stop(WAIT).await.expect("stops");
}
