//! A connection that goes silent — mid-FETCH, mid-IDLE, mid-SMTP — is noticed within its
//! deadline and replaced; nothing is lost or doubled. On PostgreSQL, when the instance holding the
//! mailbox cannot reach the server any more, another instance takes the mailbox over.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use routedesk::store::Counted;

use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, append, folder, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::stall::{self, Later};
use crate::support::{Db, Helpdesk, eventually, spawn_helpdesk_with, unique};
use routedesk::domain::OutboxStatus;

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(
    a_silent_fetch_is_dropped_and_retried,
    a_connection_silent_in_idle_is_noticed,
    a_silent_smtp_server_does_not_hold_the_outbox
);

/// A helpdesk whose IMAP goes through `port`, with short deadlines so the test waits seconds.
async fn helpdesk_via(db: Db, imap_port: u16) -> Helpdesk {
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.url = format!("imap://127.0.0.1:{imap_port}");
    hd.config.imap.timeout_secs = 3;
    hd.config.imap.idle_secs = 4;
    hd
}

/// Waits for the report tagged `token` to be one ticket whose routing mail reached a contact once.
async fn routed_once(hd: &Helpdesk, token: &str) {
    let store = hd.store().await;
    eventually("the report routed", WAIT, || async {
        (!inbox_with(GJOVIK_CONTACTS[0], token).await.is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "one ticket, not two");
    assert_eq!(inbox_with(GJOVIK_CONTACTS[0], token).await.len(), 1, "one routing mail");
    assert_eq!(folder(&hd.address, "Processed").await.len(), 1, "moved once");
}

async fn a_silent_fetch_is_dropped_and_retried(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    let proxy = stall::start(rig.imap_port, b"BODY[] {", Later::Forward).await;
    let hd = helpdesk_via(db, proxy.port).await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    let started = Instant::now();
    let svc = hd.start().await;
    routed_once(&hd, &token).await;
    assert_eq!(proxy.stalled.load(Ordering::Relaxed), 1, "the first FETCH went silent");
    assert!(proxy.accepted.load(Ordering::Relaxed) >= 2, "and a new connection took over");
    assert!(svc.intake.reconnects.load(Ordering::Relaxed) >= 1);
    assert!(started.elapsed() < Duration::from_secs(30), "resumed within the deadline: {:?}", started.elapsed());
    svc.stop(WAIT).await.expect("stops");
}

async fn a_connection_silent_in_idle_is_noticed(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    // Dovecot's answer to IDLE; the connection then says nothing, whatever arrives.
    let proxy = stall::start(rig.imap_port, b"+ idling", Later::Forward).await;
    let hd = helpdesk_via(db, proxy.port).await;
    let svc = hd.start().await;
    eventually("the session idling on a silent connection", WAIT, || async {
        (proxy.stalled.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    let arrived = Instant::now();
    routed_once(&hd, &token).await;
    // idle_secs (4) + the deadline on DONE (3) + a reconnect: well under 20 s.
    assert!(arrived.elapsed() < Duration::from_secs(20), "noticed within the deadline: {:?}", arrived.elapsed());
    svc.stop(WAIT).await.expect("stops");
}

async fn a_silent_smtp_server_does_not_hold_the_outbox(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    // The first SMTP session goes silent when the server is ready for the mail's text.
    let proxy = stall::start(rig.smtp_port, b"354 ", Later::Forward).await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.smtp.url = format!("smtp://127.0.0.1:{}", proxy.port);
        c.smtp.timeout_secs = 2;
    })
    .await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    routed_once(&hd, &token).await;
    assert_eq!(proxy.stalled.load(Ordering::Relaxed), 1, "the first session went silent");
    let store = hd.store().await;
    let t = store.tickets(1).await.expect("tickets").remove(0);
    let outbox = store.outbox_of(t.id).await.expect("outbox");
    let first = &outbox[0];
    assert_eq!(first.status, OutboxStatus::Sent);
    assert!(first.attempts >= 2, "retried after the silent session: {first:?}");
    assert!(first.last_error.as_deref().unwrap_or_default().contains("did not answer"), "{first:?}");
    svc.stop(WAIT).await.expect("stops");
}

/// Two instances on PostgreSQL: the one holding the mailbox is cut off from the IMAP server (its
/// connection goes silent mid-IDLE, and every new one is silent too). It gives the mailbox up, and
/// the other instance — whose way to the server works — takes it over and routes the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_second_instance_takes_over_from_a_stalled_one() {
    crate::support::level::needs!(Rig, Postgres);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    let proxy = stall::start(rig.imap_port, b"+ idling", Later::Silent).await;
    let a = helpdesk_via(Db::Postgres, proxy.port).await;
    let mut b = Helpdesk::new(Db::Postgres).await;
    b.config.database_url = a.config.database_url.clone();
    b.config.mailbox = a.config.mailbox.clone();
    b.config.imap.user = a.config.imap.user.clone();
    let svc_a = a.start().await;
    eventually("instance a idling on a silent connection", WAIT, || async {
        (proxy.stalled.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    assert!(svc_a.intake.leader.load(Ordering::Relaxed), "a holds the mailbox");
    let svc_b = b.start().await;
    let token = unique("T");
    append(&a.address, "INBOX", &Report::complete(&token, &a.address).to_bytes()).await;
    let arrived = Instant::now();
    routed_once(&a, &token).await;
    assert!(svc_b.intake.leader.load(Ordering::Relaxed), "b took the mailbox over");
    assert!(!svc_a.intake.leader.load(Ordering::Relaxed), "a gave it up");
    assert!(arrived.elapsed() < Duration::from_secs(25), "taken over within the deadlines: {:?}", arrived.elapsed());
    svc_b.stop(WAIT).await.expect("b stops");
    svc_a.stop(WAIT).await.expect("a stops");
}
