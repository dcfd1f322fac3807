//! Test plan 18: our request for details goes to an address that does not exist, and the
//! receiving server's bounce (a DSN) comes back. It is not answered; it is kept on the ticket
//! whose mail it returns, with an entry in the history; and the failed address gets no automatic
//! reply to its next report while it is blocked — the report itself is still routed.

use std::time::Duration;

use routedesk::domain::{Direction, OutboxKind, Verdict};
use routedesk::store::Counted;

use crate::service::on_both_databases;
use crate::support::mail::{Report, append, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};
use crate::support::{detail_text, reason_text};

const WAIT: Duration = Duration::from_secs(60);

/// A Postfix-style DSN for `message_id` sent to `recipient`.
fn dsn(to: &str, recipient: &str, message_id: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.gjovik.kommune.no (Mail Delivery System)\r\nTo: {to}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <{}@mx.gjovik.kommune.no>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.gjovik.kommune.no\r\n\r\n\
         Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown\r\n\r\n\
         --b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {to}\r\nTo: {recipient}\r\nMessage-ID: <{message_id}>\r\n\r\n--b--\r\n",
        unique("dsn")
    )
    .into_bytes()
}

on_both_databases!(a_bounce_is_kept_on_its_ticket_and_blocks_replies_to_the_address);

async fn a_bounce_is_kept_on_its_ticket_and_blocks_replies_to_the_address(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;
    let token = unique("B");
    let typo: &'static str =
        Box::leak(format!("kari.nordmnn.{}@gjovik.kommune.no", token.to_lowercase()).into_boxed_str());
    let mut report = Report::complete(&format!("{token}-1"), &hd.address);
    report.from = typo;
    report.screenshot = false;
    append(&hd.address, "INBOX", &report.to_bytes()).await;
    let asked = eventually("the request for details delivered", WAIT, || async {
        inbox_with(typo, &token).await.into_iter().next()
    })
    .await;
    let ticket = store.tickets(1).await.expect("tickets").remove(0);
    let queued = store.outbox_of(ticket.id).await.expect("outbox").len();

    append(&hd.address, "INBOX", &dsn(&hd.address, typo, &asked.message_id)).await;
    eventually("the bounce taken in", WAIT, || async {
        (store.count(Counted::Inbound).await.ok()? == 2).then_some(())
    })
    .await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "no ticket of the bounce");
    let on_ticket = store.messages_of(ticket.id).await.expect("messages");
    let bounce: Vec<_> = on_ticket
        .iter()
        .filter(|m| m.direction == Direction::In && m.verdict == Verdict::Ignored)
        .filter(|m| reason_text(m).starts_with("bounce"))
        .collect();
    assert_eq!(bounce.len(), 1, "the bounce is kept on the ticket whose mail it returns: {on_ticket:?}");
    let events = store.events_of(ticket.id).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.kind == "bounced" && detail_text(e).contains(typo) && detail_text(e).contains("User unknown")),
        "the history says so: {events:?}"
    );
    assert_eq!(store.outbox_of(ticket.id).await.expect("outbox").len(), queued, "no reply to the bounce");

    // The same address reports again: routed, but not answered while it is blocked.
    let mut again = Report::complete(&format!("{token}-2"), &hd.address);
    again.from = typo;
    again.message_id = format!("{token}-2@gjovik.kommune.no");
    append(&hd.address, "INBOX", &again.to_bytes()).await;
    eventually("the second report a ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == 2).then_some(())
    })
    .await;
    let second = store.tickets(1).await.expect("tickets").remove(0);
    let mail = store.outbox_of(second.id).await.expect("outbox");
    assert!(mail.iter().any(|o| o.kind == OutboxKind::Routing), "still routed");
    assert!(
        !mail.iter().any(|o| matches!(o.kind, OutboxKind::Acknowledgement | OutboxKind::RequestInfo)),
        "no automatic reply to a bounced address: {mail:?}"
    );
    let events = store.events_of(second.id).await.expect("events");
    assert!(events.iter().any(|e| e.kind == "reply-suppressed" && detail_text(e).contains("bounced")), "{events:?}");
    svc.stop(WAIT).await.expect("stops");
}
