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
