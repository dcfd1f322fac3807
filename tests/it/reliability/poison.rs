//! A poison mail among a hundred good ones, through the real IMAP path (test plan 13): it is set
//! aside once, as quarantined, with its bytes as they came, and holds none of the others up.

use std::time::Duration;

use routedesk::domain::Verdict;
use routedesk::store::Counted;

use super::crash::{CONTACT, reports};
use crate::service::on_both_databases;
use crate::support::mail::{append, folder, inbox_emptied, inbox_with};
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(180);
const GOOD: usize = 100;

on_both_databases!(a_poison_mail_is_set_aside_once_and_holds_up_nothing);

async fn a_poison_mail_is_set_aside_once_and_holds_up_nothing(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("P");
    // More MIME parts than the parser takes (500): it can never become a ticket.
    let mut poison = format!(
        "From: <poison.{}@vestre-toten.kommune.no>\r\nSubject: {token} gift\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n",
        token.to_lowercase()
    );
    for i in 0..2_000 {
        poison.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\ndel {i}\r\n"));
    }
    poison.push_str("--b--\r\n");
    for (i, (_, raw)) in reports(&token, &hd.address, GOOD).into_iter().enumerate() {
        if i == GOOD / 2 {
            append(&hd.address, "INBOX", poison.as_bytes()).await;
        }
        append(&hd.address, "INBOX", &raw).await;
    }

    let store = hd.store().await;
    eventually("every mail taken in", WAIT, || async {
        (store.count(Counted::Inbound).await.ok()? == (GOOD + 1) as i64).then_some(())
    })
    .await;
    inbox_emptied(&hd.address, WAIT).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), GOOD as i64, "every good report a ticket");
    assert_eq!(folder(&hd.address, "Processed").await.len(), GOOD + 1, "every mail moved once, the poison too");
    let set_aside = store.untracked_messages(1000).await.expect("set-aside mail");
    let quarantined: Vec<_> = set_aside.iter().filter(|m| m.verdict == Verdict::Quarantined).collect();
    assert_eq!(quarantined.len(), 1, "the poison is quarantined once: {set_aside:?}");
    let q = quarantined[0];
    assert!(reason_text(q).contains("more than 500 MIME parts"), "{:?}", q.reason);
    let kept = store.message_raw(q.id).await.expect("read").expect("its bytes are kept");
    assert_eq!(kept, poison.as_bytes(), "kept exactly as it came");
    // And somebody is told.
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(alerts.contains(&routedesk::alerts::Condition::Quarantined), "{alerts:?}");
    eventually("every routing mail delivered", WAIT, || async {
        (inbox_with(CONTACT, &token).await.len() >= GOOD).then_some(())
    })
    .await;
    assert_eq!(inbox_with(CONTACT, &token).await.len(), GOOD, "one routing mail per good report, none for the poison");
    svc.stop(WAIT).await.expect("stops");
}

on_both_databases!(a_mail_the_reader_fails_on_is_set_aside_at_once);

/// A mail that no limit catches but that the reader cannot survive (a panic, made by the crash
/// points' marker): set aside at the first attempt, with its bytes — not retried for ever — and
/// the mail around it, in the same batch, taken in.
async fn a_mail_the_reader_fails_on_is_set_aside_at_once(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("Q");
    let mail = reports(&token, &hd.address, 20);
    let mut poison = routedesk::faults::PANIC_MARKER.to_vec();
    poison.extend_from_slice(b"\r\n");
    poison.extend_from_slice(&mail[10].1);
    for (i, (_, raw)) in mail.iter().enumerate() {
        append(&hd.address, "INBOX", if i == 10 { &poison } else { raw }).await;
    }
    let store = hd.store().await;
    eventually("every mail taken in", WAIT, || async {
        (store.count(Counted::Inbound).await.ok()? == 20).then_some(())
    })
    .await;
    inbox_emptied(&hd.address, WAIT).await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 19, "the others all tickets");
    let set_aside = store.untracked_messages(100).await.expect("set-aside mail");
    let q: Vec<_> = set_aside.iter().filter(|m| m.verdict == Verdict::Quarantined).collect();
    assert_eq!(q.len(), 1, "set aside once: {set_aside:?}");
    assert!(reason_text(q[0]).starts_with("the message could not be read"), "{:?}", q[0]);
    assert_eq!(store.message_raw(q[0].id).await.expect("read").expect("kept"), poison, "its bytes kept");
    assert_eq!(folder(&hd.address, "Processed").await.len(), 20, "filed with the others");
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(alerts.contains(&routedesk::alerts::Condition::Quarantined), "{alerts:?}");
    svc.stop(WAIT).await.expect("stops");
}
