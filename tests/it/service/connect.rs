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

/// The outbox's SMTP in each way it can be secured: implicit TLS (SMTPS), STARTTLS on the
/// submission port (both signed in) and plain SMTP on loopback; each mail arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtps_starttls_and_loopback_plain_all_send() {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let r = rig::ensure();
    let hd = Helpdesk::new(Db::Sqlite).await;
    let to = format!("{}@vestre-toten.kommune.no", crate::support::unique("smtp").to_lowercase());
    let token = crate::support::unique("S");
    for (i, (url, starttls, login)) in [
        (format!("smtps://127.0.0.1:{}", r.smtps_port), false, true),
        (format!("smtp://127.0.0.1:{}", r.submission_port), true, true),
        (format!("smtp://127.0.0.1:{}", r.smtp_port), false, false),
    ]
    .into_iter()
    .enumerate()
    {
        let mut cfg = hd.config.clone();
        cfg.smtp.url = url.clone();
        cfg.smtp.starttls = starttls;
        cfg.smtp.ca_cert = Some(r.ca_cert.clone().into());
        if login {
            cfg.smtp.user = Some(hd.address.clone());
            cfg.smtp.password = Some(routedesk::config::Secret::new(r.password.clone()));
        }
        let transport = routedesk::outbox::transport::build(&cfg, None).expect("a transport");
        let envelope =
            lettre::address::Envelope::new(Some(hd.address.parse().expect("from")), vec![to.parse().expect("to")])
                .expect("envelope");
        let raw = format!(
            "From: <{}>\r\nTo: <{to}>\r\nSubject: {token} {i}\r\nMessage-ID: <{token}-{i}@routedesk.test>\r\n\r\nvia {url}\r\n",
            hd.address
        );
        transport.send_raw(&envelope, raw.as_bytes()).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }
    let arrived = crate::support::eventually("the three mails", std::time::Duration::from_secs(30), || async {
        let m = crate::support::mail::inbox_with(&to, &token).await;
        (m.len() >= 3).then_some(m)
    })
    .await;
    let mut subjects: Vec<_> = arrived.iter().map(|m| m.subject.clone()).collect();
    subjects.sort();
    assert_eq!(subjects, [0, 1, 2].map(|i| format!("{token} {i}")));
}
