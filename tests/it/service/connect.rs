//! Connecting to the IMAP server in each of the ways the configuration allows, and clear errors
//! when it cannot.

use routedesk::intake::connect::{Login, connect};

use crate::support::rig::{self, RIG_LOCK};
use crate::support::{Db, Helpdesk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_starttls_and_loopback_plain_all_connect() {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let r = rig::ensure();
    let hd = Helpdesk::new(Db::Sqlite).await;
    for (url, starttls) in [
        (format!("imaps://127.0.0.1:{}", r.imaps_port), false),
        (format!("imap://127.0.0.1:{}", r.imap_port), true),
        (format!("imap://127.0.0.1:{}", r.imap_port), false),
    ] {
        let mut cfg = hd.config.imap.clone();
        cfg.url = url.clone();
        cfg.starttls = starttls;
        let mut session =
            connect(&cfg, &Login::Password).await.unwrap_or_else(|e| panic!("{url} (starttls {starttls}): {e:#}"));
        session.select("INBOX").await.expect("SELECT");
        session.logout().await.expect("LOGOUT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_and_a_wrong_password_give_clear_errors() {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(Db::Sqlite).await;
    let mut cfg = hd.config.imap.clone();
    cfg.ca_cert = None;
    let e =
        format!("{:#}", connect(&cfg, &Login::Password).await.expect_err("the rig's own CA is not trusted by default"));
    assert!(e.contains("TLS handshake with 127.0.0.1 failed"), "{e}");

    let mut cfg = hd.config.imap.clone();
    cfg.password = routedesk::config::Secret::new("wrong");
    let e = format!("{:#}", connect(&cfg, &Login::Password).await.expect_err("a wrong password is refused"));
    assert!(e.contains(&format!("IMAP login as {} failed", hd.address)), "{e}");
}

/// A server without IDLE, MOVE or UIDPLUS (capabilities hidden by a proxy): routedesk polls, and
/// marks processed mail with a flag instead of moving it — and never takes a flagged mail twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_idle_or_move_is_polled_and_mail_is_flagged() {
    crate::support::level::needs!(Rig);
    use routedesk::store::Counted;
    use std::time::Duration;

    use crate::support::mail::{Report, append, folder};
    use crate::support::{eventually, unique};

    let _rig = RIG_LOCK.read().await;
    let r = rig::ensure();
    let proxy = crate::support::proxy::start_with(
        r.imap_port,
        0,
        0,
        &[("IDLE", "XDLE"), ("MOVE", "XOVE"), ("UIDPLUS", "XIDPLUS")],
    )
    .await;
    let mut hd = Helpdesk::new(Db::Sqlite).await;
    hd.config.imap.url = format!("imap://127.0.0.1:{}", proxy.port);
    hd.config.imap.poll_secs = 1;
    let token = unique("P");
    append(&hd.address, "INBOX", &Report::complete(&format!("{token}-1"), &hd.address).to_bytes()).await;
    let svc = hd.start().await;
    let store = hd.store().await;
    eventually("the first report", Duration::from_secs(30), || async {
        (store.count(Counted::Tickets).await.ok()? == 1).then_some(())
    })
    .await;
    // Mail arriving later is found by polling.
    append(&hd.address, "INBOX", &Report::complete(&format!("{token}-2"), &hd.address).to_bytes()).await;
    eventually("the second report, by polling", Duration::from_secs(30), || async {
        (store.count(Counted::Tickets).await.ok()? == 2).then_some(())
    })
    .await;
    svc.stop(Duration::from_secs(30)).await.expect("stops");
    assert_eq!(folder(&hd.address, "INBOX").await.len(), 2, "without MOVE the mail stays, flagged");
    // A restart does not take the flagged mail again.
    let again = hd.start().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    again.stop(Duration::from_secs(30)).await.expect("stops");
    assert_eq!(store.count(Counted::Inbound).await.expect("count"), 2, "no mail recorded twice");
}
