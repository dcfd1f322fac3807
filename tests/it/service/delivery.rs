//! How SMTP answers are handled: 4xx is retried with backoff, 5xx fails the mail at once and shows
//! on the ticket. A small SMTP server of our own gives the answers.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

use super::on_both_databases;
use crate::support::mail::{Report, append};
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, spawn_helpdesk_with, unique};
use routedesk::domain::{OutboxStatus, Verdict};

const WAIT: Duration = Duration::from_secs(30);

/// Answers every RCPT TO with `reply`; returns its port.
async fn refusing_smtp(reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 refuser ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    let answer = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        "250 refuser\r\n".to_string()
                    } else if cmd.starts_with("RCPT") {
                        format!("{reply}\r\n")
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        "250 ok\r\n".to_string()
                    };
                    if w.write_all(answer.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

async fn helpdesk_with_smtp(db: Db, port: u16) -> Helpdesk {
    let mut hd = Helpdesk::new(db).await;
    hd.config.smtp.url = format!("smtp://127.0.0.1:{port}");
    hd
}

on_both_databases!(permanent_rejection_fails_at_once_and_shows_on_the_ticket, temporary_rejection_is_retried);

async fn permanent_rejection_fails_at_once_and_shows_on_the_ticket(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = helpdesk_with_smtp(db, refusing_smtp("550 5.1.1 No such user").await).await;
    let svc = hd.start().await;
    append(&hd.address, "INBOX", &Report::complete(&unique("T"), &hd.address).to_bytes()).await;
    let store = hd.store().await;
    let outbox = eventually("the mail marked failed", WAIT, || async {
        let t = store.tickets(1).await.ok()?.into_iter().next()?;
        let o = store.outbox_of(t.id).await.ok()?;
        o.iter().all(|o| o.status == OutboxStatus::Failed).then_some(o)
    })
    .await;
    for o in &outbox {
        assert_eq!(o.attempts, 1, "a 5xx is not retried");
        assert!(o.last_error.as_deref().is_some_and(|e| e.contains("550")), "{:?}", o.last_error);
    }
    let t = store.tickets(1).await.expect("tickets").remove(0);
    let events = store.events_of(t.id).await.expect("events");
    assert!(
        events.iter().any(|e| e.kind == "delivery-failed" && e.detail.contains("550")),
        "the failure shows on the ticket"
    );
    // Staff see it on the ticket's page.
    let app = crate::web::App::serving(svc.web.clone(), hd.config.database_url.clone());
    app.add_user("kari", "helpdesk", None).await;
    let kari = app.sign_in("kari").await;
    let page = crate::web::text(app.get(&format!("/tickets/{}", t.number), Some(&kari)).await).await;
    assert!(
        page.contains("delivery failed") && page.contains("(550): 5.1.1 No such user"),
        "the refusal is on the ticket page:\n{page}"
    );
    svc.stop(WAIT).await.expect("stops");
}

async fn temporary_rejection_is_retried(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let mut hd = helpdesk_with_smtp(db, refusing_smtp("451 4.3.0 Try again later").await).await;
    hd.config.outbox.max_attempts = 3;
    let svc = hd.start().await;
    append(&hd.address, "INBOX", &Report::complete(&unique("T"), &hd.address).to_bytes()).await;
    let store = hd.store().await;
    eventually("a refused attempt, queued for another try", WAIT, || async {
        let t = store.tickets(1).await.ok()?.into_iter().next()?;
        let o = store.outbox_of(t.id).await.ok()?;
        o.iter()
            .any(|o| o.status == OutboxStatus::Queued && o.last_error.as_deref().is_some_and(|e| e.contains("451")))
            .then_some(())
    })
    .await;
    // Test plan 23: retried up to the limit, then failed for good, not retried for ever.
    let t = store.tickets(1).await.expect("tickets").remove(0);
    let failed = eventually("the attempts used up", WAIT, || async {
        let o = store.outbox_of(t.id).await.ok()?;
        o.iter().all(|o| o.status == OutboxStatus::Failed).then_some(o)
    })
    .await;
    for o in &failed {
        assert_eq!(o.attempts, 3, "retried up to max_attempts");
        let error = o.last_error.as_deref().unwrap_or_default();
        assert!(error.starts_with("gave up after 3 attempts") && error.contains("451"), "{error}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = store.outbox_of(t.id).await.expect("outbox");
    assert!(later.iter().all(|o| o.attempts == 3), "no attempt after giving up");
    svc.stop(WAIT).await.expect("stops");
}

on_both_databases!(dry_run_records_everything_and_sends_nothing, oversized_mail_is_quarantined_not_lost);

async fn dry_run_records_everything_and_sends_nothing(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.dry_run = true;
    })
    .await;
    let token = unique("T");
    append(&hd.address, "INBOX", &Report::complete(&token, &hd.address).to_bytes()).await;
    let store = hd.store().await;
    let outbox = eventually("the decision recorded", WAIT, || async {
        let t = store.tickets(1).await.ok()?.into_iter().next()?;
        let o = store.outbox_of(t.id).await.ok()?;
        (o.len() == 2).then_some(o)
    })
    .await;
    assert!(
        outbox.iter().all(|o| o.status == OutboxStatus::DryRun),
        "{:?}",
        outbox.iter().map(|o| &o.status).collect::<Vec<_>>()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(crate::support::mail::inbox_with(super::GJOVIK_CONTACTS[0], &token).await.is_empty(), "nothing is sent");
    svc.stop(WAIT).await.expect("stops");
}

async fn oversized_mail_is_quarantined_not_lost(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.limits.max_message_bytes = 4096;
    })
    .await;
    let mut report = Report::complete(&unique("T"), &hd.address);
    report.body = format!("{}\n{}", report.body, "Lang logg fra Visma:\n".repeat(400));
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    eventually("the mail processed", WAIT, || async {
        (crate::support::mail::folder(&hd.address, "Processed").await.len() == 1).then_some(())
    })
    .await;
    let store = hd.store().await;
    assert_eq!(store.count(routedesk::store::Counted::Tickets).await.expect("count"), 0);
    let q = store.untracked_messages(5).await.expect("quarantine");
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].verdict, Verdict::Quarantined);
    assert!(reason_text(&q[0]).contains("the limit is 4096"), "{:?}", q[0].reason);
    assert!(q[0].subject.contains("Feil ved lønnskjøring"), "the header was kept: {}", q[0].subject);
    svc.stop(WAIT).await.expect("stops");
}
