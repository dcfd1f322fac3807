//! Test plan 21: routedesk's own mail comes back into the helpdesk folder — the routing mail a
//! contact's forwarding rule sends back, the acknowledgement a reporter forwards unchanged. Each
//! is known (by its signed Message-ID; by the helpdesk's own address as sender): no ticket, no
//! reply, set aside with its reason, and the loop alert holds.

use std::time::Duration;

use routedesk::alerts::Condition;
use routedesk::domain::Verdict;
use routedesk::store::Counted;

use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, append, inbox_emptied, inbox_with, raw_by_message_id};
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, alerts_now, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(our_own_mail_coming_back_is_set_aside_and_told);

async fn our_own_mail_coming_back_is_set_aside_and_told(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;
    let token = unique("S");
    let report = Report::complete(&token, &hd.address);
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    let routed = eventually("the routing mail delivered", WAIT, || async {
        inbox_with(GJOVIK_CONTACTS[0], &token).await.into_iter().next()
    })
    .await;
    let ack = eventually("the acknowledgement delivered", WAIT, || async {
        inbox_with(report.from, &token).await.into_iter().next()
    })
    .await;
    let outgoing = |t: i64| {
        let store = store.clone();
        async move { store.outbox_of(t).await.expect("outbox").len() }
    };
    let ticket = store.tickets(1).await.expect("tickets").remove(0);
    let queued = outgoing(ticket.id).await;
    assert!(queued >= 2, "routing mail and acknowledgement");
    assert!(!alerts_now(&store, &hd.config).await.contains(&Condition::LoopSuspected), "no loop yet");

    // Both come back, byte for byte as they were delivered.
    for (owner, mail) in [(GJOVIK_CONTACTS[0], &routed), (report.from, &ack)] {
        let raw = raw_by_message_id(owner, "INBOX", &mail.message_id).await;
        append(&hd.address, "INBOX", &raw).await;
    }
    eventually("both taken in", WAIT, || async { (store.count(Counted::Inbound).await.ok()? == 3).then_some(()) })
        .await;
    inbox_emptied(&hd.address, WAIT).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "no ticket of our own mail");
    assert_eq!(outgoing(ticket.id).await, queued, "no reply to our own mail");
    let set_aside = store.untracked_messages(10).await.expect("set aside");
    let own: Vec<_> = set_aside
        .iter()
        .filter(|m| m.verdict == Verdict::Ignored && reason_text(m) == "own mail coming back (loop protection)")
        .collect();
    assert_eq!(own.len(), 2, "both set aside with the reason: {set_aside:?}");
    assert!(alerts_now(&store, &hd.config).await.contains(&Condition::LoopSuspected), "the loop alert holds");
    svc.stop(WAIT).await.expect("stops");
}
