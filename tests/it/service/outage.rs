//! Outages and restarts: the rig's servers are stopped and started under a running service, which
//! must resume by itself and lose nothing. These tests hold the rig exclusively.

use std::time::Duration;

use routedesk::store::Counted;

use super::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, append, folder, inbox_emptied, inbox_with, send};
use crate::support::rig::{self, RIG_LOCK};
use crate::support::{Db, Helpdesk, eventually, spawn_helpdesk, unique};
use routedesk::domain::OutboxStatus;

const WAIT: Duration = Duration::from_secs(45);

on_both_databases!(
    intake_resumes_after_an_imap_outage,
    outbox_holds_mail_through_an_smtp_outage,
    a_restart_mid_stream_neither_loses_nor_doubles
);

async fn intake_resumes_after_an_imap_outage(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.write().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    eventually("the intake connected", WAIT, || async {
        svc.intake.connected.load(std::sync::atomic::Ordering::Relaxed).then_some(())
    })
    .await;

    rig::run(&["stop-imap"]);
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    // Postfix queues the report while Dovecot is down.
    send(&report.to_bytes(), report.from, &hd.address).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    rig::run(&["start-imap"]);
    rig::run(&["flush"]);

    let routed = eventually("the report routed after the outage", WAIT, || async {
        let m = inbox_with(GJOVIK_CONTACTS[0], &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(routed.len(), 1);
    assert!(svc.intake.reconnects.load(std::sync::atomic::Ordering::Relaxed) >= 1, "the intake noticed the outage");
    assert_eq!(hd.store().await.count(Counted::Tickets).await.expect("count"), 1);
    svc.stop(WAIT).await.expect("stops");
}

async fn outbox_holds_mail_through_an_smtp_outage(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.write().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    rig::run(&["stop-smtp"]);
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    // SMTP is down, so the report is put straight into the mailbox.
    append(&hd.address, "INBOX", &report.to_bytes()).await;

    let store = hd.store().await;
    let retried = eventually("a failed delivery attempt", WAIT, || async {
        let t = store.tickets(1).await.ok()?.into_iter().next()?;
        let outbox = store.outbox_of(t.id).await.ok()?;
        outbox
            .iter()
            .all(|o| o.status == OutboxStatus::Queued && o.attempts >= 1 && o.last_error.is_some())
            .then_some(outbox)
    })
    .await;
    assert_eq!(retried.len(), 2, "routing mail and acknowledgement are queued");
    rig::run(&["start-smtp"]);

    let routed = eventually("delivery after the outage", WAIT, || async {
        let m = inbox_with(GJOVIK_CONTACTS[0], &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(routed.len(), 1);
    eventually("every queued mail sent", WAIT, || async { (store.outbox_pending().await.ok()? == 0).then_some(()) })
        .await;
    let t = store.tickets(1).await.expect("tickets").remove(0);
    assert!(store.outbox_of(t.id).await.expect("outbox").iter().all(|o| o.status == OutboxStatus::Sent));
    svc.stop(WAIT).await.expect("stops");
}

async fn a_restart_mid_stream_neither_loses_nor_doubles(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(db).await;
    let token = unique("T");
    const N: usize = 12;
    for i in 0..N {
        let mut r = Report::complete(&format!("{token}-{i:02}"), &hd.address);
        r.message_id = format!("{token}-{i}@gjovik.kommune.no");
        append(&hd.address, "INBOX", &r.to_bytes()).await;
    }
    let store = hd.store().await;
    let first = hd.start().await;
    eventually("some tickets", WAIT, || async { (store.count(Counted::Tickets).await.ok()? >= 3).then_some(()) }).await;
    first.stop(WAIT).await.expect("stops");

    let second = hd.start().await;
    eventually("every report a ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == N as i64).then_some(())
    })
    .await;
    eventually("every mail sent", WAIT, || async { (store.outbox_pending().await.ok()? == 0).then_some(()) }).await;
    inbox_emptied(&hd.address, WAIT).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), N as i64);
    // One routing mail each; the one sender gets acknowledgements only up to the hourly cap.
    let cap = i64::from(hd.config.limits.replies_per_sender_per_hour);
    assert_eq!(store.count(Counted::Outbox).await.expect("count"), N as i64 + cap);
    let routed = eventually("all routing mails delivered", WAIT, || async {
        let m = inbox_with(GJOVIK_CONTACTS[1], &token).await;
        (m.len() >= N).then_some(m)
    })
    .await;
    let mut subjects: Vec<&str> = routed.iter().map(|m| m.subject.as_str()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N, "each report routed exactly once");
    assert_eq!(routed.len(), N, "no report routed twice");
    second.stop(WAIT).await.expect("stops");
}

on_both_databases!(a_uidvalidity_change_rescans_without_duplicates);

async fn a_uidvalidity_change_rescans_without_duplicates(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.folder = "Reports".into();
    let token = unique("T");
    let reports: Vec<Vec<u8>> =
        (0..3).map(|i| Report::complete(&format!("{token}-{i}"), &hd.address).to_bytes()).collect();
    for r in &reports {
        append(&hd.address, "Reports", r).await;
    }
    let store = hd.store().await;
    let first = hd.start().await;
    eventually("three tickets", WAIT, || async { (store.count(Counted::Tickets).await.ok()? == 3).then_some(()) })
        .await;
    eventually("the folder emptied", WAIT, || async { folder(&hd.address, "Reports").await.is_empty().then_some(()) })
        .await;
    first.stop(WAIT).await.expect("stops");
    let old_validity = store.mailbox_state("Reports").await.expect("state").expect("recorded").uidvalidity;

    // The server renumbers the folder and the same mail shows up again, plus one new report.
    crate::support::mail::recreate_folder(&hd.address, "Reports").await;
    for r in &reports {
        append(&hd.address, "Reports", r).await;
    }
    append(&hd.address, "Reports", &Report::complete(&format!("{token}-new"), &hd.address).to_bytes()).await;
    let second = hd.start().await;
    eventually("the folder emptied again", WAIT, || async {
        folder(&hd.address, "Reports").await.is_empty().then_some(())
    })
    .await;
    eventually("the new report a ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == 4).then_some(())
    })
    .await;
    second.stop(WAIT).await.expect("stops");
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 4, "the old mail was not recorded twice");
    let new_validity = store.mailbox_state("Reports").await.expect("state").expect("recorded").uidvalidity;
    assert_ne!(old_validity, new_validity, "the new UIDVALIDITY is recorded");
    // Somebody is told: a renumbered mailbox may be one restored from a backup.
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(alerts.contains(&routedesk::alerts::Condition::MailboxRenumbered), "{alerts:?}");
}

on_both_databases!(a_uidnext_gone_backwards_rescans_without_loss_or_duplicates);

/// Test plan 8: the server's UIDNEXT falls below what routedesk processed, with the same
/// UIDVALIDITY (a server restored from a backup). The mail at the lower UIDs — some of it seen
/// before, some new — is all looked at: the new one recorded, the old ones not twice.
async fn a_uidnext_gone_backwards_rescans_without_loss_or_duplicates(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.folder = "Restored".into();
    let token = unique("T");
    let reports: Vec<Vec<u8>> =
        (0..2).map(|i| Report::complete(&format!("{token}-{i}"), &hd.address).to_bytes()).collect();
    for r in &reports {
        append(&hd.address, "Restored", r).await;
    }
    let store = hd.store().await;
    let first = hd.start().await;
    eventually("two tickets", WAIT, || async { (store.count(Counted::Tickets).await.ok()? == 2).then_some(()) }).await;
    eventually("the folder emptied", WAIT, || async { folder(&hd.address, "Restored").await.is_empty().then_some(()) })
        .await;
    first.stop(WAIT).await.expect("stops");

    // As if the server had handed out UIDs up to a million before it was restored.
    let state = store.mailbox_state("Restored").await.expect("state").expect("recorded");
    let mut tx = store.begin().await.expect("begin");
    tx.set_mailbox_state("Restored", state.uidvalidity, 1_000_000, time::OffsetDateTime::now_utc())
        .await
        .expect("state");
    tx.commit().await.expect("commit");
    for r in &reports {
        append(&hd.address, "Restored", r).await;
    }
    append(&hd.address, "Restored", &Report::complete(&format!("{token}-new"), &hd.address).to_bytes()).await;

    let second = hd.start().await;
    eventually("the folder emptied again", WAIT, || async {
        folder(&hd.address, "Restored").await.is_empty().then_some(())
    })
    .await;
    second.stop(WAIT).await.expect("stops");
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 3, "the new report taken in, the old not twice");
    let after = store.mailbox_state("Restored").await.expect("state").expect("recorded");
    assert_eq!(after.uidvalidity, state.uidvalidity);
    assert!(after.last_uid < 1_000_000, "the checkpoint follows the server again: {after:?}");
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(!alerts.contains(&routedesk::alerts::Condition::MailboxRenumbered), "same UIDVALIDITY: {alerts:?}");
    assert_eq!(folder(&hd.address, "Processed").await.len(), 5, "every copy filed");
}
