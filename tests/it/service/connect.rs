//! Connecting to the IMAP server in each of the ways the configuration allows, and clear errors
//! when it cannot.

use routedesk::intake::connect::connect;

use crate::support::rig::{self, RIG_LOCK};
use crate::support::{Db, Helpdesk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_starttls_and_loopback_plain_all_connect() {
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
        let mut session = connect(&cfg).await.unwrap_or_else(|e| panic!("{url} (starttls {starttls}): {e:#}"));
        session.select("INBOX").await.expect("SELECT");
        session.logout().await.expect("LOGOUT");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_and_a_wrong_password_give_clear_errors() {
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(Db::Sqlite).await;
    let mut cfg = hd.config.imap.clone();
    cfg.ca_cert = None;
    let e = format!("{:#}", connect(&cfg).await.expect_err("the rig's own CA is not trusted by default"));
    assert!(e.contains("TLS handshake with 127.0.0.1 failed"), "{e}");

    let mut cfg = hd.config.imap.clone();
    cfg.password = routedesk::config::Secret::new("wrong");
    let e = format!("{:#}", connect(&cfg).await.expect_err("a wrong password is refused"));
    assert!(e.contains(&format!("IMAP login as {} failed", hd.address)), "{e}");
}
