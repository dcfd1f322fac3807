//! Test plan 24: the SMTP server accepts a mail but its 250 never reaches routedesk (the
//! connection is lost after the end of DATA). The mail is sent again with the same Message-ID —
//! the recipient has it at most twice, as one mail in any client — and it is marked on the
//! ticket page as possibly arrived twice. Mail whose session was lost before its end is not.

use std::sync::atomic::Ordering;
use std::time::Duration;

use routedesk::domain::OutboxStatus;

use crate::service::on_both_databases;
use crate::support::mail::{Report, append, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, lose_answer, spawn_helpdesk_with, unique};
use crate::web::{App, text};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(a_lost_answer_after_data_resends_the_same_mail_marked);

async fn a_lost_answer_after_data_resends_the_same_mail_marked(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let rig = crate::support::rig::ensure();
    let proxy = lose_answer::start(rig.smtp_port).await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.smtp.url = format!("smtp://127.0.0.1:{}", proxy.port);
        c.smtp.timeout_secs = 3;
        c.outbox.sessions = 1;
    })
    .await;
    let token = unique("A");
    append(&hd.address, "INBOX", &Report::complete(&token, &hd.address).to_bytes()).await;
    let store = hd.store().await;
    let rows = eventually("every mail sent", WAIT, || async {
        let t = store.tickets(1).await.ok()?.into_iter().next()?;
        let rows = store.outbox_of(t.id).await.ok()?;
        (rows.len() == 2 && rows.iter().all(|o| o.status == OutboxStatus::Sent)).then_some(rows)
    })
    .await;
    assert_eq!(proxy.lost.load(Ordering::Relaxed), 1, "one answer was lost");
    let marked: Vec<_> = rows.iter().filter(|o| o.maybe_sent).collect();
    assert_eq!(marked.len(), 1, "the mail whose answer was lost, and only it, is marked: {rows:?}");
    let twice = marked[0];
    assert_eq!(twice.attempts, 2, "sent again");
    for row in &rows {
        let to = row.to[0].as_str();
        let expected = if row.maybe_sent { 2 } else { 1 };
        let delivered =
            || async { inbox_with(to, &token).await.iter().filter(|m| m.message_id == row.message_id).count() };
        // Both copies of the mail sent again arrive (the second may queue behind the first).
        eventually("the mail delivered", WAIT, || async { (delivered().await >= expected).then_some(()) }).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(delivered().await, expected, "{} at {to}", row.kind);
    }

    // Staff see which mail may have arrived twice.
    let app = App::serving(svc.web.clone(), hd.config.database_url.clone());
    app.add_user("kari", "helpdesk", None).await;
    let kari = app.sign_in("kari").await;
    let number = store.tickets(1).await.expect("tickets").remove(0).number;
    let page = text(app.get(&format!("/tickets/{number}"), Some(&kari)).await).await;
    assert_eq!(page.matches("Kan ha kommet fram to ganger").count(), 1, "one mail marked on the page");
    svc.stop(WAIT).await.expect("stops");
}
