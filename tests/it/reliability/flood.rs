//! Test plan 19: a flood of reports from one sender, then from many. Every mail is taken in; the
//! automatic replies stay within the limits — one per sender per ticket, `replies_per_sender_per_hour`
//! per sender, `replies_per_hour` in all — and routing mail, the helpdesk's job, is never held.

use std::time::Duration;

use routedesk::domain::OutboxKind;
use routedesk::store::{Counted, OutboxRow, Store};

use super::crash::reports;
use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, append, inbox_emptied, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk_with, unique};

const WAIT: Duration = Duration::from_secs(120);

on_both_databases!(a_flood_is_taken_in_and_answered_within_the_limits);

/// Every outgoing mail of every ticket.
async fn all_outbox(store: &Store) -> Vec<OutboxRow> {
    let mut all = vec![];
    for t in store.tickets(10_000).await.expect("tickets") {
        let rows = store.outbox_of(t.id).await.expect("outbox");
        let replies = rows.iter().filter(|o| is_reply(o)).count();
        assert!(replies <= 1, "{}: {replies} automatic replies on one ticket", t.number);
        all.extend(rows);
    }
    all
}

fn is_reply(o: &OutboxRow) -> bool {
    matches!(o.kind, OutboxKind::Acknowledgement | OutboxKind::RequestInfo)
}

async fn suppressed(store: &Store, why: &str) -> usize {
    let mut n = 0;
    for t in store.tickets(10_000).await.expect("tickets") {
        let events = store.events_of(t.id).await.expect("events");
        n += events
            .iter()
            .filter(|e| e.kind == "reply-suppressed" && crate::support::detail_text(e).contains(why))
            .count();
    }
    n
}

async fn a_flood_is_taken_in_and_answered_within_the_limits(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| c.limits.replies_per_hour = 20).await;
    let per_sender = hd.config.limits.replies_per_sender_per_hour as usize;
    let store = hd.store().await;

    // 100 reports from one sender, each about its own fault.
    let token = unique("F");
    let sender = format!("flom.{}@gjovik.kommune.no", token.to_lowercase());
    for i in 0..100 {
        let mut r = Report::complete(&format!("{token}-{i:03}"), &hd.address);
        r.from = &sender;
        r.message_id = format!("{token}-{i}@gjovik.kommune.no");
        append(&hd.address, "INBOX", &r.to_bytes()).await;
    }
    eventually("100 tickets", WAIT, || async { (store.count(Counted::Tickets).await.ok()? == 100).then_some(()) })
        .await;
    inbox_emptied(&hd.address, WAIT).await;
    let out = all_outbox(&store).await;
    let routing = out.iter().filter(|o| o.kind == OutboxKind::Routing).count();
    let replies: Vec<_> = out.iter().filter(|o| is_reply(o)).collect();
    assert_eq!(routing, 100, "every report routed: routing mail is never held");
    assert_eq!(replies.len(), per_sender, "the sender's automatic replies stop at the limit per sender");
    assert!(replies.iter().all(|o| o.to.iter().all(|a| a.as_str() == sender)));
    assert_eq!(suppressed(&store, "in the last hour (limit)").await, 100 - per_sender, "each held reply is noted");
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(alerts.contains(&routedesk::alerts::Condition::LoopSuspected), "replies held: {alerts:?}");
    let got = eventually("the replies delivered", WAIT, || async {
        let m = inbox_with(&sender, &token).await;
        (m.len() >= per_sender).then_some(m)
    })
    .await;
    let routed = eventually("the routing mail delivered", WAIT, || async {
        let m = inbox_with(GJOVIK_CONTACTS[0], &token).await;
        (m.len() >= 100).then_some(m)
    })
    .await;
    assert_eq!(routed.len(), 100, "each routing mail once");
    assert_eq!(inbox_with(&sender, &token).await.len(), per_sender, "and no more replies: {got:?}");

    // Then 30 reports from 30 senders: the limit in all (20 an hour, 5 used) holds the rest.
    let many = unique("G");
    for (_, raw) in reports(&many, &hd.address, 30) {
        append(&hd.address, "INBOX", &raw).await;
    }
    eventually("130 tickets", WAIT, || async { (store.count(Counted::Tickets).await.ok()? == 130).then_some(()) })
        .await;
    let out = all_outbox(&store).await;
    assert_eq!(out.iter().filter(|o| o.kind == OutboxKind::Routing).count(), 130, "every report routed");
    assert_eq!(out.iter().filter(|o| is_reply(o)).count(), 20, "automatic replies stop at the limit in all");
    assert_eq!(suppressed(&store, "limit for all senders").await, 30 - (20 - per_sender));
    svc.stop(WAIT).await.expect("stops");
}
