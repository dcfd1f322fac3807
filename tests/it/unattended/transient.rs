//! A database error while a mail is being built (its report cannot be read for a while) is
//! retried like a 4xx, not marked failed for good: only a mail that can never be built fails.

use std::time::Duration;

use routedesk::store::{NewMessage, NewOutbox};
use routedesk::text::address::EmailAddress;

use crate::service::on_both_databases;
use crate::support::mail::inbox_with;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, exec, spawn_helpdesk, unique};
use routedesk::domain::{OutboxKind, OutboxStatus};

on_both_databases!(a_failing_database_read_is_retried_not_failed);

/// `(status, attempts, last error)` of the outgoing mail with this subject.
async fn state(url: &str, subject: &str) -> (String, i64, String) {
    const SQL: &str = "SELECT status, attempts, COALESCE(last_error, '') FROM outbox WHERE subject = $1";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        let row = sqlx::query_as(SQL).bind(subject).fetch_one(&pool).await.expect("the row");
        pool.close().await;
        row
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        let row = sqlx::query_as(SQL).bind(subject).fetch_one(&pool).await.expect("the row");
        pool.close().await;
        row
    }
}

async fn a_failing_database_read_is_retried_not_failed(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let url = hd.config.database_url.clone();
    let token = unique("T");
    let to = EmailAddress::parse("transient@gjovik.kommune.no").expect("address");
    let now = time::OffsetDateTime::now_utc();

    // A mail that carries a recorded report, queued while the report cannot be read.
    let mut tx = svc.store.begin().await.expect("begin");
    let raw = format!("From: a@gjovik.kommune.no\r\nSubject: {token}\r\n\r\nx\r\n");
    let key = unique("key-");
    let new = NewMessage {
        direction: routedesk::domain::Direction::In,
        dedup_key: &key,
        message_id: None,
        verdict: routedesk::domain::Verdict::Ticket,
        reason: None,
        from_addr: None,
        subject: &token,
        mailbox: None,
        uidvalidity: None,
        uid: None,
        raw: raw.as_bytes(),
        at: now,
    };
    let report = tx.insert_message(&new, None).await.expect("message").expect("new");
    tx.commit().await.expect("commit");
    exec(&url, "ALTER TABLE messages RENAME TO messages_away").await;
    let mut tx = svc.store.begin().await.expect("begin");
    tx.insert_outbox(&NewOutbox {
        ticket_id: None,
        kind: OutboxKind::Routing,
        message_id: &format!("{}@routedesk.test", unique("t-")),
        envelope_from: "helpdesk@routedesk.test",
        to: std::slice::from_ref(&to),
        cc: &[],
        in_reply_to: None,
        report_message: Some(report),
        subject: &token,
        body: "Rapporten følger.",
        status: OutboxStatus::Queued,
        at: now,
    })
    .await
    .expect("queue");
    tx.commit().await.expect("commit");

    let (status, attempts, error) = eventually("a failed attempt", Duration::from_secs(20), || async {
        let s = state(&url, &token).await;
        (s.1 >= 1 && !s.2.is_empty()).then_some(s)
    })
    .await;
    assert_eq!(status, "queued", "kept in the queue to be tried again ({attempts} attempts: {error})");
    assert!(error.contains("report"), "{error}");
    exec(&url, "ALTER TABLE messages_away RENAME TO messages").await;
    let sent = eventually("the mail sent once the report can be read", Duration::from_secs(30), || async {
        inbox_with(to.as_str(), &token).await.into_iter().next()
    })
    .await;
    assert_eq!(sent.attachments.iter().filter(|(ct, _, _)| ct == "message/rfc822").count(), 1, "with its report");
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}
