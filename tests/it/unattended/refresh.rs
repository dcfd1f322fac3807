//! Test plan 5: IDLE is ended and issued again on routedesk's own clock, whatever the server
//! says meanwhile. Dovecot's keepalives (`* OK Still here`) restart async-imap's inactivity timer,
//! so a client that relied on it would idle for ever on a connection that may be long dead.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, append, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, trace, unique};

on_both_databases!(idle_is_issued_again_on_time_through_keepalives);

async fn idle_is_issued_again_on_time_through_keepalives(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    // A keepalive every 300 ms: async-imap's own timer (set to the same idle time) never runs out.
    let proxy = trace::start(rig.imap_port, Duration::from_millis(300)).await;
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.url = format!("imap://127.0.0.1:{}", proxy.port);
    hd.config.imap.timeout_secs = 3;
    hd.config.imap.idle_secs = 2;
    let svc = hd.start().await;
    eventually("three rounds of IDLE", Duration::from_secs(30), || async {
        (proxy.times_of("DONE").len() >= 3).then_some(())
    })
    .await;

    let idles = proxy.times_of("IDLE");
    let dones = proxy.times_of("DONE");
    assert!(proxy.keepalives.load(Ordering::Relaxed) >= 10, "the server kept talking during IDLE");
    for (i, done) in dones.iter().enumerate() {
        let idle = idles[i];
        let idled = done.duration_since(idle);
        // idle_secs (2), plus scheduling: never the keepalive-driven "for ever".
        assert!(
            idled >= Duration::from_millis(1900) && idled < Duration::from_millis(3500),
            "IDLE {i} ended after {idled:?}"
        );
        if let Some(next) = idles.get(i + 1) {
            assert!(next.duration_since(*done) < Duration::from_secs(1), "IDLE issued again at once");
        }
    }
    assert_eq!(proxy.accepted.load(Ordering::Relaxed), 1, "on one connection: a refresh, not a reconnect");
    assert_eq!(svc.intake.reconnects.load(Ordering::Relaxed), 0);

    // And the session is alive: a report put in now is routed.
    let token = unique("T");
    append(&hd.address, "INBOX", &Report::complete(&token, &hd.address).to_bytes()).await;
    eventually("the report routed", Duration::from_secs(30), || async {
        (!inbox_with(GJOVIK_CONTACTS[0], &token).await.is_empty()).then_some(())
    })
    .await;
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}
