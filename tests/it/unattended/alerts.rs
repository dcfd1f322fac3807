//! Somebody is told when routedesk cannot do its job: one mail when a condition starts and one when
//! it ends, a banner for the helpdesk, and `routedesk status`. Each condition with the clock moved
//! on, on both databases; and end to end on the rig, an intake that cannot log in.

use std::time::Duration;

use routedesk::alerts::watch::Checks;
use routedesk::alerts::{Condition, Schedule};
use routedesk::config::AlertsConfig;
use routedesk::desk::Desk;
use routedesk::store::{NewOutbox, Store};
use routedesk::text::address::EmailAddress;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::service::on_both_databases;
use crate::support::mail::inbox_with;
use crate::support::rig::RIG_LOCK;
use crate::support::scratch::TestDatabase;
use crate::support::{Db, eventually, exec, spawn_helpdesk_with, unique};
use routedesk::domain::{OutboxKind, OutboxStatus};

on_both_databases!(
    each_condition_mails_once_when_it_starts_and_once_when_it_ends,
    an_intake_that_cannot_log_in_is_reported_and_its_recovery_too
);

const OPS: &str = "drift@gjovik.kommune.no";
/// A Friday at 13:00 in Oslo: working hours.
const NOW: OffsetDateTime = datetime!(2026-12-04 12:00 UTC);

fn checks(store: &Store, url: &str, cfg: AlertsConfig, ids: routedesk::desk::message_id::MessageIds) -> Checks {
    Checks {
        store: store.clone(),
        schedule: Schedule::new(&cfg).expect("schedule"),
        cfg,
        intake: "helpdesk@routedesk.test:INBOX".into(),
        database_url: url.into(),
        mailbox: "helpdesk@routedesk.test".into(),
        ids,
        signature: "Helpdesk".into(),
        dry_run: false,
        started_at: NOW - time::Duration::days(1),
    }
}

/// The alert mails queued so far: `(subject, to)`.
async fn alert_mails(store: &Store) -> Vec<(String, Vec<String>)> {
    store
        .outbox_of_kind(OutboxKind::Alert)
        .await
        .expect("outbox")
        .into_iter()
        .map(|o| (o.subject.clone(), o.to.iter().map(|a| a.to_string()).collect()))
        .collect()
}

async fn queue(store: &Store, url: &str, status: OutboxStatus, at: OffsetDateTime) {
    let mut tx = store.begin().await.expect("begin");
    let to = [EmailAddress::parse("x@gjovik.kommune.no").expect("address")];
    let subject = unique("S");
    tx.insert_outbox(&NewOutbox {
        ticket_id: None,
        kind: OutboxKind::Routing,
        message_id: &format!("{}@routedesk.test", unique("a-")),
        envelope_from: "helpdesk@routedesk.test",
        to: &to,
        cc: &[],
        in_reply_to: None,
        report_message: None,
        subject: &subject,
        body: "x",
        status,
        at,
    })
    .await
    .expect("queue");
    tx.commit().await.expect("commit");
    if status == OutboxStatus::Failed {
        exec(url, format!("UPDATE outbox SET last_error = '550 5.1.1 no such user' WHERE subject = '{subject}'")).await;
    }
}

async fn each_condition_mails_once_when_it_starts_and_once_when_it_ends(db: Db) {
    let database = TestDatabase::new(db).await;
    let url = database.url.clone();
    let store = Store::connect(&url).await.expect("store");
    let desk = Desk::new(&crate::support::desk_config(&url), store.clone()).await.expect("desk");
    let ids = desk.ids().clone();
    // The limit: 2 MB above what the empty database takes (PostgreSQL starts at several MB).
    let (empty, _) = store.database_size(&url).await.expect("size");
    let limit = u32::try_from(empty / (1024 * 1024)).expect("small") + 2;
    let cfg = AlertsConfig { to: vec![OPS.into()], database_max_mb: limit, ..AlertsConfig::default() };
    let c = checks(&store, &url, cfg, ids);
    let intake = "helpdesk@routedesk.test:INBOX";
    store.intake_ok(intake, NOW - time::Duration::minutes(1)).await.expect("ok");

    // Intake: failing for 3 minutes is nothing yet; for 20 it is an alert, mailed once.
    store
        .intake_failed(intake, "LOGIN failed: AUTHENTICATE failed", NOW - time::Duration::minutes(20))
        .await
        .expect("fail");
    let mut facts = c.facts().await.expect("facts");
    facts.last_mail_at = Some(NOW - time::Duration::minutes(10));
    let early = c.check(&facts, NOW - time::Duration::minutes(17)).await.expect("check");
    assert!(early.started.is_empty(), "{early:?}");
    let changes = c.check(&facts, NOW).await.expect("check");
    assert_eq!(changes.started, [Condition::IntakeDown]);
    let again = c.check(&facts, NOW + time::Duration::minutes(1)).await.expect("check");
    assert!(again.started.is_empty() && again.ended.is_empty(), "no second mail: {again:?}");
    let mails = alert_mails(&store).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].0.contains("Varsel") && mails[0].0.contains("E-postmottaket"), "{mails:?}");
    assert_eq!(mails[0].1, [OPS]);
    let active = store.active_alerts().await.expect("alerts");
    assert_eq!(active.len(), 1);
    assert!(active[0].finding.text_nb().contains("AUTHENTICATE failed"));

    // It logs in again: the alert ends, with one mail.
    store.intake_ok(intake, NOW + time::Duration::minutes(2)).await.expect("ok");
    let mut facts = c.facts().await.expect("facts");
    facts.last_mail_at = Some(NOW);
    let ended = c.check(&facts, NOW + time::Duration::minutes(2)).await.expect("check");
    assert_eq!(ended.ended, [Condition::IntakeDown]);
    assert!(store.active_alerts().await.expect("alerts").is_empty());
    let mails = alert_mails(&store).await;
    assert_eq!(mails.len(), 2);
    assert!(mails[1].0.contains("I orden"), "{mails:?}");

    // The mailbox goes quiet for a working morning (a forwarding rule changed).
    facts.intake_ok_at = Some(NOW);
    facts.last_mail_at = Some(NOW - time::Duration::hours(5));
    assert_eq!(c.check(&facts, NOW).await.expect("check").started, [Condition::NoMail]);
    facts.last_mail_at = Some(NOW);
    assert_eq!(c.check(&facts, NOW).await.expect("check").ended, [Condition::NoMail]);

    // Mail stuck in the outbox, and a mail that failed for good.
    queue(&store, &url, OutboxStatus::Queued, NOW - time::Duration::minutes(45)).await;
    queue(&store, &url, OutboxStatus::Failed, OffsetDateTime::now_utc()).await;
    let mut facts = c.facts().await.expect("facts");
    facts.intake_ok_at = Some(NOW);
    facts.last_mail_at = Some(NOW);
    let changes = c.check(&facts, NOW).await.expect("check");
    assert_eq!(changes.started, [Condition::OutboxStuck, Condition::OutboxFailed]);
    let active = store.active_alerts().await.expect("alerts");
    let failed = active.iter().find(|a| a.finding.condition == Condition::OutboxFailed).expect("failed alert");
    assert!(failed.finding.said.contains("550"), "{:?}", failed.finding);

    // The database past its limit: 4 MB on record (random, so nothing compresses it away).
    let mut tx = store.begin().await.expect("begin");
    let raw: Vec<u8> = (0..4 * 1024 * 1024).map(|_| fastrand::u8(..)).collect();
    let key = unique("big-");
    let new = routedesk::store::NewMessage {
        direction: routedesk::domain::Direction::In,
        dedup_key: &key,
        message_id: None,
        // Set aside as bulk mail: only its size counts here (quarantined mail has an alert of its own).
        verdict: routedesk::domain::Verdict::Ignored,
        reason: Some("bulk (Precedence: bulk)"),
        from_addr: None,
        subject: "",
        mailbox: None,
        uidvalidity: None,
        uid: None,
        raw: &raw,
        at: NOW,
    };
    tx.insert_message(&new, None).await.expect("message");
    tx.commit().await.expect("commit");
    let mut facts = c.facts().await.expect("facts");
    facts.intake_ok_at = Some(NOW);
    facts.last_mail_at = Some(NOW);
    assert!(facts.database_bytes.unwrap_or(0) / (1024 * 1024) >= u64::from(limit), "{:?}", facts.database_bytes);
    assert_eq!(c.check(&facts, NOW).await.expect("check").started, [Condition::DatabaseFull]);
    assert_eq!(alert_mails(&store).await.len(), 2 + 2 + 2 + 1, "one mail per start and per end");
}

async fn an_intake_that_cannot_log_in_is_reported_and_its_recovery_too(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let ops = format!("{}@gjovik.kommune.no", unique("drift-").to_lowercase());
    let wrong = unique("wrong-password-");
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.imap.password = routedesk::config::Secret::new(wrong.clone());
        c.alerts.to = vec![ops.clone()];
        c.alerts.intake_down_minutes = 1;
        c.alerts.check_secs = 3;
    })
    .await;
    let started = eventually("the alert mail", Duration::from_secs(120), || async {
        inbox_with(&ops, "Varsel").await.into_iter().next()
    })
    .await;
    assert!(started.text.contains("E-postmottaket"), "{}", started.text);
    assert!(svc.alerts.current().iter().any(|a| a.finding.condition == Condition::IntakeDown), "the banner shows it");
    // The mailbox's password becomes the one configured: the intake logs in, the alert ends.
    crate::support::rig::run(&["add-user", &hd.address, &wrong]);
    // The intake waits up to a minute (and a quarter, with jitter) between attempts.
    let ended = eventually("the all-clear mail", Duration::from_secs(150), || async {
        inbox_with(&ops, "I orden").await.into_iter().next()
    })
    .await;
    assert!(ended.text.contains("i orden igjen"), "{}", ended.text);
    assert_eq!(inbox_with(&ops, "Varsel").await.len(), 1, "one mail when it started, not one a check");
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}
