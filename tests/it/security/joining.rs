//! Only a ticket's reporter, the people it was sent to, and staff add to a ticket; only the
//! reporter (or staff) completes one that waits for details. A stranger who writes the ticket's
//! number in the subject — with a passing DMARC — opens a new ticket that mentions it: nothing is
//! added to the old one and nothing of theirs reaches the municipality's contacts.

use std::time::Duration;

use routedesk::store::{Counted, Store};

use super::super::service::{GJOVIK_CONTACTS, HELPDESK, on_both_databases};
use crate::support::mail::{Report, inbox_with, send};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk_with, unique};
use routedesk::domain::{Direction, TicketStatus};

const WAIT: Duration = Duration::from_secs(30);
const STRANGER: &str = "stranger@evil.example";
const OUR_MX: &str = "mx.routedesk.test";

on_both_databases!(a_stranger_cannot_complete_or_join_but_the_reporter_and_contacts_can);

/// The stranger's "answer": the ticket's tag, a phone number, a mobile and a picture, and our own
/// server's word that the stranger's domain passed DMARC (they own it).
fn strangers_answer<'a>(token: &str, to: &'a str, subject: &str, in_reply_to: &str) -> Report<'a> {
    Report {
        from_name: "Helpful Stranger",
        from: STRANGER,
        subject: format!("SV: {subject}"),
        body: format!("Her er opplysningene: tlf 61 12 34 56, mobil 912 34 567, {STRANGER}.\n"),
        screenshot: true,
        message_id: unique("stranger-") + "@evil.example",
        in_reply_to: Some(in_reply_to.to_string()),
        extra_headers: vec![("Authentication-Results", format!("{OUR_MX}; dmarc=pass header.from=evil.example"))],
        ..Report::complete(token, to)
    }
}

async fn files_of(store: &Store, ticket: i64) -> usize {
    store.attachments_of(ticket).await.expect("attachments").len()
}

async fn a_stranger_cannot_complete_or_join_but_the_reporter_and_contacts_can(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk_with(db, |c| {
        c.trusted_authserv_id = OUR_MX.into();
    })
    .await;
    let store = hd.store().await;
    let token = unique("T");

    // A report without its screenshot waits for the reporter.
    let mut report = Report::complete(&token, &hd.address);
    report.screenshot = false;
    send(&report.to_bytes(), report.from, &hd.address).await;
    let ask = eventually("the request for details", WAIT, || async {
        inbox_with(report.from, &token).await.into_iter().next()
    })
    .await;
    let number = ask.subject[1..15].to_string();
    let held = store.ticket_by_number(&number).await.expect("query").expect("ticket");
    assert_eq!(held.status, TicketStatus::AwaitingInfo);

    // A stranger answers with the tag, details and a picture: a new ticket that mentions it.
    let answer = strangers_answer(&token, &hd.address, &ask.subject, &ask.message_id);
    send(&answer.to_bytes(), STRANGER, &hd.address).await;
    let theirs = eventually("the stranger's own ticket", WAIT, || async {
        let tickets = store.tickets(10).await.ok()?;
        tickets.into_iter().find(|t| t.id != held.id && t.subject.contains(&token))
    })
    .await;
    // Their ticket is triaged by the helpdesk: that mail is the sign that it was all processed.
    eventually("the helpdesk's mail about the stranger's ticket", WAIT, || async {
        let m = inbox_with(HELPDESK, &theirs.number).await;
        (!m.is_empty()).then_some(())
    })
    .await;
    let held_now = store.ticket_by_number(&number).await.expect("query").expect("ticket");
    assert_eq!(held_now.status, TicketStatus::AwaitingInfo, "a stranger does not complete the ticket");
    assert_eq!(files_of(&store, held.id).await, 0, "no file of theirs on the ticket");
    assert_eq!(
        store.messages_of(held.id).await.expect("messages").iter().filter(|m| m.direction == Direction::In).count(),
        1
    );
    let events = store.events_of(held.id).await.expect("events");
    assert!(events.iter().any(|e| e.kind == "mentioned" && e.detail.contains(&theirs.number)), "{events:?}");
    let their_events = store.events_of(theirs.id).await.expect("events");
    assert!(their_events.iter().any(|e| e.kind == "mentions" && e.detail.contains(&number)), "{their_events:?}");
    for contact in GJOVIK_CONTACTS {
        assert!(inbox_with(contact, &token).await.is_empty(), "{contact} gets nothing of the stranger's");
    }
    assert!(inbox_with(STRANGER, &token).await.is_empty(), "no reply to the stranger");

    // A contact's answer joins as a comment, and does not complete the ticket either.
    let comment = Report {
        from_name: "Tor Espen Berg",
        from: GJOVIK_CONTACTS[0],
        subject: format!("SV: {}", ask.subject),
        body: "Vi ser på saken.\n".into(),
        screenshot: true,
        message_id: unique("contact-") + "@gjovik.kommune.no",
        in_reply_to: None,
        ..Report::complete(&token, &hd.address)
    };
    send(&comment.to_bytes(), comment.from, &hd.address).await;
    eventually("the contact's comment on the ticket", WAIT, || async {
        let m = store.messages_of(held.id).await.ok()?;
        m.iter().any(|m| m.from_addr.as_deref() == Some(GJOVIK_CONTACTS[0])).then_some(())
    })
    .await;
    let still = store.ticket_by_number(&number).await.expect("query").expect("ticket");
    assert_eq!(still.status, TicketStatus::AwaitingInfo, "only the reporter completes the ticket");

    // The reporter answers with the screenshot: the ticket is complete and routed.
    let reply = Report {
        subject: format!("SV: {}", ask.subject),
        body: format!("Her er skjermbildet.{}", crate::support::mail::SIGNATURE),
        message_id: unique("reply-") + "@gjovik.kommune.no",
        in_reply_to: Some(ask.message_id.clone()),
        ..Report::complete(&token, &hd.address)
    };
    send(&reply.to_bytes(), reply.from, &hd.address).await;
    let routed = eventually("the routing mail after completion", WAIT, || async {
        inbox_with(GJOVIK_CONTACTS[0], &token).await.into_iter().next()
    })
    .await;
    assert!(routed.subject.contains(&number));
    let done = store.ticket_by_number(&number).await.expect("query").expect("ticket");
    assert_eq!(done.status, TicketStatus::Routed);

    // The stranger answers the routing mail itself: still not added to the ticket.
    let before = store.messages_of(held.id).await.expect("messages").len();
    let tickets_before = store.count(Counted::Tickets).await.expect("count");
    let late = strangers_answer(&token, &hd.address, &routed.subject, &routed.message_id);
    send(&late.to_bytes(), STRANGER, &hd.address).await;
    eventually("the stranger's second ticket", WAIT, || async {
        (store.count(Counted::Tickets).await.ok()? == tickets_before + 1).then_some(())
    })
    .await;
    assert_eq!(store.messages_of(held.id).await.expect("messages").len(), before, "nothing added");
    svc.stop(WAIT).await.expect("stops");
}
