//! Test plan 20: what routedesk's mail says about itself, read as delivered at the rig's Dovecot,
//! which writes the envelope sender into `Return-Path`. Automatic replies go with a null envelope
//! sender, `Auto-Submitted: auto-replied`, `X-Auto-Response-Suppress: All`, threading headers to the
//! report and a Message-ID our own key verifies; routing mail and notifications (a privacy
//! incident's, an alert) are `auto-generated` and signed as well. The reply goes to the report's From, whatever its envelope
//! sender was, and only to a report written to the helpdesk: one that reached it by Bcc gets none.

use std::time::Duration;

use routedesk::alerts::watch::Checks;
use routedesk::alerts::{Facts, Schedule};
use routedesk::config::AlertsConfig;
use routedesk::desk::Desk;
use routedesk::domain::OutboxKind;
use time::OffsetDateTime;

use super::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Received, Report, inbox_by_message_id, inbox_with, send};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(30);

on_both_databases!(
    every_mail_we_send_says_it_is_automatic_and_carries_a_signed_id,
    the_reply_goes_to_from_and_never_to_a_bcc_report
);

async fn arrived(address: &str, token: &str) -> Received {
    let mut got = eventually(&format!("the mail to {address}"), WAIT, || async {
        let m = inbox_with(address, token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(got.len(), 1, "one mail to {address}");
    got.remove(0)
}

/// The desk of a running helpdesk, for its key (kept in the database, the same for every instance).
async fn desk_of(hd: &Helpdesk) -> Desk {
    Desk::new(&hd.config, hd.store().await).await.expect("desk")
}

async fn every_mail_we_send_says_it_is_automatic_and_carries_a_signed_id(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let desk = desk_of(&hd).await;
    let token = unique("H");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    let own_envelope = format!("<{}>", hd.address);

    let ack = arrived(report.from, &token).await;
    assert_eq!(ack.return_path.as_deref(), Some("<>"), "an automatic reply goes with MAIL FROM:<>");
    assert_eq!(ack.auto_submitted.as_deref(), Some("auto-replied"));
    assert_eq!(ack.auto_response_suppress.as_deref(), Some("All"));
    assert_eq!(ack.in_reply_to, std::slice::from_ref(&report.message_id));
    assert_eq!(ack.references, std::slice::from_ref(&report.message_id));
    assert!(desk.ids().is_ours(&ack.message_id), "the reply's id is signed: {}", ack.message_id);

    for contact in GJOVIK_CONTACTS {
        let routed = arrived(contact, &token).await;
        assert_eq!(routed.return_path.as_deref(), Some(own_envelope.as_str()), "routing mail bounces to us");
        assert_eq!(routed.auto_submitted.as_deref(), Some("auto-generated"));
        assert_eq!(routed.auto_response_suppress.as_deref(), Some("All"));
        assert_eq!(routed.in_reply_to, std::slice::from_ref(&report.message_id));
        assert_eq!(routed.references, std::slice::from_ref(&report.message_id));
        assert!(desk.ids().is_ours(&routed.message_id), "the routing mail's id is signed: {}", routed.message_id);
        assert_ne!(routed.message_id, ack.message_id);
    }

    // A notification: a report about a payslip sent to the wrong person opens a privacy incident,
    // and its data-protection contact is told.
    let token = unique("P");
    let privacy = Report {
        subject: format!("{token} Lønnsslipp sendt til feil person"),
        body: format!("Hei,\n\nLønnsslippen min ble sendt til feil person i går.{}", crate::support::mail::SIGNATURE),
        message_id: format!("{token}@gjovik.kommune.no"),
        ..Report::complete(&token, &hd.address)
    };
    send(&privacy.to_bytes(), privacy.from, &hd.address).await;
    let store = hd.store().await;
    let told = eventually("the privacy notification queued", WAIT, || async {
        let t = store.tickets(10).await.ok()?.into_iter().find(|t| t.subject.contains(&token))?;
        store.outbox_of(t.id).await.ok()?.into_iter().find(|o| o.kind == OutboxKind::Privacy)
    })
    .await;
    let contact = told.to[0].to_string();
    let notified = eventually("the privacy notification delivered", WAIT, || async {
        inbox_by_message_id(&contact, &told.message_id).await
    })
    .await;
    assert_eq!(notified.return_path.as_deref(), Some(own_envelope.as_str()));
    assert_eq!(notified.auto_submitted.as_deref(), Some("auto-generated"));
    assert_eq!(notified.auto_response_suppress.as_deref(), Some("All"));
    assert!(desk.ids().is_ours(&notified.message_id), "the notification's id is signed: {}", notified.message_id);

    // An alert, sent by the running service's outbox like any other mail.
    let ops = format!("{}@gjovik.kommune.no", unique("drift-").to_lowercase());
    let cfg = AlertsConfig { to: vec![ops.clone()], ..AlertsConfig::default() };
    let now = OffsetDateTime::now_utc();
    let checks = Checks {
        store: hd.store().await,
        schedule: Schedule::new(&cfg).expect("schedule"),
        cfg,
        intake: format!("{}:INBOX", hd.address),
        database_url: hd.config.database_url.clone(),
        mailbox: hd.address.clone(),
        ids: desk.ids().clone(),
        signature: "Helpdesk".into(),
        dry_run: false,
        started_at: now,
    };
    let facts = Facts { intake_ok_at: Some(now), last_mail_at: Some(now), loops_recently: 1, ..Facts::default() };
    let changes = checks.check(&facts, now).await.expect("check");
    assert_eq!(changes.started, [routedesk::alerts::Condition::LoopSuspected]);
    let alert = arrived(&ops, "Varsel").await;
    assert_eq!(alert.return_path.as_deref(), Some(own_envelope.as_str()));
    assert_eq!(alert.auto_submitted.as_deref(), Some("auto-generated"));
    assert_eq!(alert.auto_response_suppress.as_deref(), Some("All"));
    assert!(desk.ids().is_ours(&alert.message_id), "the alert's id is signed: {}", alert.message_id);
    svc.stop(WAIT).await.expect("stops");
}

async fn the_reply_goes_to_from_and_never_to_a_bcc_report(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;

    // The envelope sender is a forwarder's address, not the reporter's: the reply goes to From.
    let token = unique("F");
    let forwarder = format!("srs0+{}@videresending.gjovik.kommune.no", token.to_lowercase());
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), &forwarder, &hd.address).await;
    let ack = arrived(report.from, &token).await;
    assert_eq!(ack.to, [report.from]);
    assert!(inbox_with(&forwarder, &token).await.is_empty(), "nothing to the Return-Path {forwarder}");
    let t = store.tickets(5).await.expect("tickets").into_iter().find(|t| t.subject.contains(&token)).expect("ticket");
    let received = store.messages_of(t.id).await.expect("messages");
    let raw = store.message_raw(received[0].id).await.expect("read").expect("the report's bytes");
    let head = String::from_utf8_lossy(&raw);
    assert!(head.starts_with(&format!("Return-Path: <{forwarder}>")), "the report came with its own Return-Path");

    // The same report sent to someone else with the helpdesk in Bcc: routed, not answered.
    let token = unique("B");
    let mut bcc = Report::complete(&token, "lonnskontoret@gjovik.kommune.no");
    bcc.screenshot = false;
    send(&bcc.to_bytes(), bcc.from, &hd.address).await;
    let routed = arrived(GJOVIK_CONTACTS[0], &token).await;
    assert!(routed.text.contains("Intet automatisk svar"), "the contacts read that nobody was asked: {}", routed.text);
    // The outbox is worked in order: a reply queued with the routing mail would be out by now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(inbox_with(bcc.from, &token).await.is_empty(), "no automatic reply to a report sent by Bcc");
    let t = store.tickets(5).await.expect("tickets").into_iter().find(|t| t.subject.contains(&token)).expect("ticket");
    assert_eq!(t.status.as_str(), "routed", "not held for details nobody will ask for");
    let events = store.events_of(t.id).await.expect("events");
    let why = events.iter().find(|e| e.kind == "reply-withheld").expect("the withheld reply is on record");
    let why = routedesk::domain::event::detail_text(&why.detail, routedesk::text::lang::Lang::En);
    assert!(why.contains("not in To or Cc"), "{why}");
    svc.stop(WAIT).await.expect("stops");
}
