//! Another IMAP client in the helpdesk mailbox (test plan 11): a person with the mailbox open in
//! Outlook reads every mail (setting \Seen), flags them, while routedesk works through a backlog.
//! Their reading changes nothing: every report is taken in once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt as _;
use routedesk::store::Counted;

use super::crash::{CONTACT, reports};
use crate::service::on_both_databases;
use crate::support::mail::{append, folder, inbox_emptied, inbox_with, login};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(180);
const N: usize = 40;

on_both_databases!(a_person_reading_and_flagging_the_mailbox_loses_nothing);

async fn a_person_reading_and_flagging_the_mailbox_loses_nothing(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("O");
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = tokio::spawn({
        let (address, done, reads) = (hd.address.clone(), done.clone(), reads.clone());
        async move {
            let mut s = login(&address).await;
            while !done.load(Ordering::Relaxed) {
                let mailbox = s.select("INBOX").await.expect("the person opens the inbox");
                if mailbox.exists > 0 {
                    // Reading (not PEEK) sets \Seen, as a mail client does; then a flag. A mail
                    // routedesk moved away meanwhile may be refused (NO): that is the person's
                    // client catching up, not a failure.
                    match s.fetch("1:*", "BODY[]").await {
                        Ok(stream) => {
                            let read: Vec<_> = stream.try_collect().await.expect("read");
                            reads.fetch_add(read.len(), Ordering::Relaxed);
                        }
                        Err(async_imap::error::Error::No(_)) => {}
                        Err(e) => panic!("FETCH: {e}"),
                    }
                    match s.store("1:*", "+FLAGS (\\Flagged)").await {
                        Ok(stream) => drop(stream.try_collect::<Vec<_>>().await.expect("flag")),
                        Err(async_imap::error::Error::No(_)) => {}
                        Err(e) => panic!("STORE: {e}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = s.logout().await;
        }
    });
    for (_, raw) in reports(&token, &hd.address, N) {
        append(&hd.address, "INBOX", &raw).await;
    }
    let store = hd.store().await;
    eventually("every report a ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == N as i64).then_some(())
    })
    .await;
    inbox_emptied(&hd.address, WAIT).await;
    done.store(true, Ordering::Relaxed);
    reader.await.expect("the person's client");
    assert!(reads.load(Ordering::Relaxed) > 0, "the person did read mail while routedesk worked");
    assert_eq!(store.count(Counted::Inbound).await.expect("count"), N as i64, "each mail recorded once");
    assert_eq!(folder(&hd.address, "Processed").await.len(), N, "each mail moved once");
    eventually("every routing mail", WAIT, || async { (inbox_with(CONTACT, &token).await.len() >= N).then_some(()) })
        .await;
    eventually("the outbox emptied", WAIT, || async { (store.outbox_pending().await.ok()? == 0).then_some(()) }).await;
    assert_eq!(inbox_with(CONTACT, &token).await.len(), N, "each report routed once");
    svc.stop(WAIT).await.expect("stops");
}

on_both_databases!(a_person_filing_and_deleting_mail_meanwhile_crashes_nothing);

/// The index of a report (`TOKEN-007 …`) in its subject.
fn index_of(subject: &str, token: &str) -> Option<usize> {
    subject.split_whitespace().find_map(|w| w.strip_prefix(token)?.strip_prefix('-')?.parse().ok())
}

/// The person also files mail into a folder of their own and deletes some (EXPUNGE), racing
/// routedesk: each report ends recorded once, or taken away by the person before routedesk
/// fetched it; routedesk speaks to the mailbox in UID commands only, so the renumbering that
/// expunges cause never points it at the wrong mail.
async fn a_person_filing_and_deleting_mail_meanwhile_crashes_nothing(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    let trace = crate::support::trace::start(rig.imap_port, Duration::from_secs(3600)).await;
    let mut hd = crate::support::Helpdesk::new(db).await;
    hd.config.imap.url = format!("imap://127.0.0.1:{}", trace.port);
    hd.config.imap.ca_cert = None;
    hd.config.imap.batch = 5;
    let token = unique("M");
    let mail = reports(&token, &hd.address, N);
    for (_, raw) in &mail[..N / 2] {
        append(&hd.address, "INBOX", raw).await;
    }
    let done = Arc::new(AtomicBool::new(false));
    let (filed, expunged) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let person = tokio::spawn({
        let (address, done, filed, expunged) = (hd.address.clone(), done.clone(), filed.clone(), expunged.clone());
        async move {
            let mut s = login(&address).await;
            let _ = s.create("Arkiv").await;
            let mut round = 0usize;
            while !done.load(Ordering::Relaxed) {
                s.select("INBOX").await.expect("the person opens the inbox");
                // The oldest mail, by sequence number, as a simple client would; routedesk may take it first.
                round += 1;
                let result = if round.is_multiple_of(2) {
                    s.mv("1", "Arkiv").await.map(|()| filed.fetch_add(1, Ordering::Relaxed)).map(drop)
                } else {
                    let flagged = match s.store("1", "+FLAGS (\\Deleted)").await {
                        Ok(st) => st.try_collect::<Vec<_>>().await.map(drop),
                        Err(e) => Err(e),
                    };
                    match flagged {
                        Ok(()) => {
                            let gone: Vec<u32> =
                                s.expunge().await.expect("EXPUNGE").try_collect().await.expect("EXPUNGE");
                            expunged.fetch_add(gone.len(), Ordering::Relaxed);
                            Ok(())
                        }
                        Err(e) => Err(e),
                    }
                };
                match result {
                    Ok(()) | Err(async_imap::error::Error::No(_)) | Err(async_imap::error::Error::Bad(_)) => {}
                    Err(e) => panic!("the person's client: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            let _ = s.logout().await;
        }
    });
    // The person gets to some of the waiting mail first; then routedesk starts and they race.
    eventually("the person at work", WAIT, || async {
        (filed.load(Ordering::Relaxed) >= 2 && expunged.load(Ordering::Relaxed) >= 2).then_some(())
    })
    .await;
    let svc = hd.start().await;
    for (_, raw) in &mail[N / 2..] {
        append(&hd.address, "INBOX", raw).await;
    }
    inbox_emptied(&hd.address, WAIT).await;
    done.store(true, Ordering::Relaxed);
    person.await.expect("the person's client");
    svc.stop(WAIT).await.expect("stops");

    let store = hd.store().await;
    let indices = |subjects: Vec<String>| -> Vec<usize> {
        let mut v: Vec<usize> = subjects.iter().filter_map(|s| index_of(s, &token)).collect();
        v.sort();
        v
    };
    let recorded = indices(store.tickets(1000).await.expect("tickets").into_iter().map(|t| t.subject).collect());
    let processed = indices(folder(&hd.address, "Processed").await.into_iter().map(|m| m.subject).collect());
    let archived = indices(folder(&hd.address, "Arkiv").await.into_iter().map(|m| m.subject).collect());
    let mut distinct = recorded.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), recorded.len(), "no report recorded twice: {recorded:?}");
    assert_eq!(
        store.count(Counted::Inbound).await.expect("count") as usize,
        recorded.len(),
        "every mail in is a ticket"
    );
    assert!(processed.iter().all(|i| recorded.contains(i)), "routedesk filed only what it recorded");
    let expunged = expunged.load(Ordering::Relaxed);
    assert!(!archived.is_empty() && expunged > 0, "the person took some: {} filed, {expunged} deleted", archived.len());
    // A report not recorded must be one the person took: filed in their folder, or deleted. (When
    // both move one mail at once, the server may leave a copy in both folders: recorded once.)
    let untaken: Vec<usize> = (0..N).filter(|i| !recorded.contains(i) && !archived.contains(i)).collect();
    assert!(untaken.len() <= expunged, "lost: {untaken:?} is more than the {expunged} the person deleted");

    // Only UID commands touch messages: sequence numbers shift under another client's EXPUNGE.
    let lines = trace.lines.lock().expect("trace").clone();
    assert!(lines.iter().any(|(_, l)| l.contains("UID MOVE")), "the trace is routedesk's");
    for (_, line) in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let command = words.get(1).map(|c| c.to_ascii_uppercase()).unwrap_or_default();
        assert!(
            !["FETCH", "STORE", "COPY", "MOVE", "SEARCH", "EXPUNGE"].contains(&command.as_str()),
            "a sequence-number command: {line}"
        );
    }
    eprintln!(
        "another client filing and deleting ({db:?}): {N} reports, {} recorded, {} filed by the person, {expunged} deleted by the person",
        recorded.len(),
        archived.len()
    );
}
