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
