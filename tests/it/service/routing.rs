//! The main loop: a report comes in, is routed with the copies the routine requires, and the
//! reporter hears back; incomplete reports wait for the reporter's answer; robots get nothing.

use std::time::Duration;

use routedesk::store::Counted;

use super::{GJOVIK_CONTACTS, HELPDESK, on_both_databases};
use crate::support::mail::{Report, folder, inbox_with, send};
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};
use routedesk::domain::{Direction, TicketStatus, Verdict};

const WAIT: Duration = Duration::from_secs(30);

on_both_databases!(
    complete_report_is_routed_with_copy_and_acknowledged,
    incomplete_report_waits_for_the_reporters_answer,
    robots_get_no_ticket_and_no_mail
);

async fn complete_report_is_routed_with_copy_and_acknowledged(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;

    for contact in GJOVIK_CONTACTS {
        let mails = eventually("the routing mail", WAIT, || async {
            let m = inbox_with(contact, &token).await;
            (!m.is_empty()).then_some(m)
        })
        .await;
        assert_eq!(mails.len(), 1, "{contact} got one routing mail");
        let m = &mails[0];
        assert!(m.subject.starts_with("[RD-2") && m.subject.contains("programfeil"), "{}", m.subject);
        assert_eq!(m.to, GJOVIK_CONTACTS);
        assert_eq!(m.cc, [HELPDESK]);
        assert_eq!(m.auto_submitted.as_deref(), Some("auto-generated"));
        assert!(m.text.contains("åpen for alle i Gjøvikregionen"), "{}", m.text);
        assert!(m.text.contains("928 41 377"), "the reporter's mobile is in the summary: {}", m.text);
        let png =
            m.attachments.iter().find(|(ct, name, _)| ct == "image/png" && name.as_deref() == Some("Skjermbilde.png"));
        assert!(png.is_some(), "the screenshot arrives: {:?}", m.attachments);
        assert!(
            m.attachments.iter().any(|(ct, _, _)| ct == "message/rfc822"),
            "the report is attached: {:?}",
            m.attachments
        );
        assert!(m.in_reply_to.contains(&report.message_id));
    }
    let copy = eventually("the helpdesk's copy", WAIT, || async {
        let m = inbox_with(HELPDESK, &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(copy.len(), 1);

    let ack = eventually("the acknowledgement", WAIT, || async {
        let m = inbox_with(report.from, &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(ack.len(), 1);
    assert!(ack[0].subject.contains("Mottatt"), "{}", ack[0].subject);
    assert_eq!(ack[0].in_reply_to, std::slice::from_ref(&report.message_id));
    assert_eq!(ack[0].auto_submitted.as_deref(), Some("auto-replied"));
    let number = &ack[0].subject[1..15];
    assert!(ack[0].text.contains(number), "the acknowledgement names the ticket");

    assert!(folder(&hd.address, "INBOX").await.is_empty(), "processed mail leaves the inbox");
    assert_eq!(folder(&hd.address, "Processed").await.len(), 1);
    let store = hd.store().await;
    let t = store.ticket_by_number(number).await.expect("query").expect("the ticket exists");
    assert_eq!(
        (t.status.as_str(), t.class.as_str(), t.municipality.as_deref()),
        ("routed", "application", Some("gjovik"))
    );
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1);
    let outbox = store.outbox_of(t.id).await.expect("outbox");
    assert_eq!(
        outbox.iter().map(|o| (o.kind.as_str(), o.status.as_str())).collect::<Vec<_>>(),
        [("routing", "sent"), ("acknowledgement", "sent")]
    );
    let events: Vec<String> = store.events_of(t.id).await.expect("events").into_iter().map(|e| e.kind).collect();
    for kind in ["received", "checked", "classified", "routed", "acknowledgement", "sent"] {
        assert!(events.iter().any(|e| e == kind), "audit trail has {kind}: {events:?}");
    }

    // A contact answers the routing mail: the answer joins the ticket.
    let routing = &inbox_with(GJOVIK_CONTACTS[0], &token).await[0];
    let answer = Report {
        from_name: "Tor Espen Berg",
        from: GJOVIK_CONTACTS[0],
        subject: format!("SV: {}", routing.subject),
        body: "Meldt til Visma som sak 12345, åpen for alle i regionen.".into(),
        screenshot: false,
        message_id: unique("answer-") + "@gjovik.kommune.no",
        in_reply_to: Some(routing.message_id.clone()),
        ..Report::complete(&token, &hd.address)
    };
    send(&answer.to_bytes(), answer.from, &hd.address).await;
    eventually("the contact's answer on the ticket", WAIT, || async {
        let m = store.messages_of(t.id).await.ok()?;
        m.iter()
            .any(|m| m.verdict == Verdict::Reply && m.from_addr.as_deref() == Some(GJOVIK_CONTACTS[0]))
            .then_some(())
    })
    .await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "an answer is no new ticket");
    svc.stop(WAIT).await.expect("stops");
}

async fn incomplete_report_waits_for_the_reporters_answer(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("T");
    let mut report = Report::complete(&token, &hd.address);
    report.screenshot = false;
    send(&report.to_bytes(), report.from, &hd.address).await;

    let asked = eventually("the request for missing details", WAIT, || async {
        let m = inbox_with(report.from, &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(asked.len(), 1);
    let ask = &asked[0];
    assert!(ask.subject.contains("Mangler opplysninger"), "{}", ask.subject);
    assert!(ask.text.contains("skjermdump"), "names the screenshot: {}", ask.text);
    assert!(!ask.text.contains("mobilnummer"), "does not ask for what was given: {}", ask.text);
    assert!(inbox_with(GJOVIK_CONTACTS[0], &token).await.is_empty(), "held reports are not routed");

    // The reporter answers the request with the screenshot.
    let reply = Report {
        subject: format!("SV: {}", ask.subject),
        body: format!("Her er skjermbildet.{}", crate::support::mail::SIGNATURE),
        screenshot: true,
        message_id: unique("reply-") + "@gjovik.kommune.no",
        in_reply_to: Some(ask.message_id.clone()),
        ..Report::complete(&token, &hd.address)
    };
    send(&reply.to_bytes(), reply.from, &hd.address).await;

    let routed = eventually("the routing mail after completion", WAIT, || async {
        let m = inbox_with(GJOVIK_CONTACTS[0], &token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(routed.len(), 1);
    assert!(routed[0].attachments.iter().any(|(ct, _, _)| ct == "image/png"), "the reply's screenshot goes along");
    let store = hd.store().await;
    let number = &ask.subject[1..15];
    let t = store.ticket_by_number(number).await.expect("query").expect("ticket");
    assert_eq!(t.status, TicketStatus::Routed);
    assert!(t.missing.is_empty());
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "the reply joined the ticket");
    let messages = store.messages_of(t.id).await.expect("messages");
    assert_eq!(messages.iter().filter(|m| m.direction == Direction::In).count(), 2);
    // One automatic reply per sender per ticket: no acknowledgement after the request.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(inbox_with(report.from, &token).await.len(), 1);
    svc.stop(WAIT).await.expect("stops");
}

async fn robots_get_no_ticket_and_no_mail(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("T");
    let mut auto = Report::complete(&token, &hd.address);
    auto.subject = format!("Fraværende: {token}");
    auto.extra_headers = vec![("Auto-Submitted", "auto-replied".into())];
    send(&auto.to_bytes(), auto.from, &hd.address).await;
    let bounce = format!(
        "From: Mail Delivery System <MAILER-DAEMON@gjovik.kommune.no>\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender {token}\r\n\
         Message-ID: <{token}.bounce@gjovik.kommune.no>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n",
        to = hd.address
    );
    send(bounce.as_bytes(), "mailer-daemon@gjovik.kommune.no", &hd.address).await;

    eventually("both robots' mails processed", WAIT, || async {
        (folder(&hd.address, "Processed").await.len() == 2).then_some(())
    })
    .await;
    let store = hd.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 0);
    assert_eq!(store.count(Counted::Outbox).await.expect("count"), 0);
    let ignored = store.untracked_messages(10).await.expect("ignored");
    let mut reasons: Vec<String> = ignored.iter().map(|m| format!("{}: {}", m.verdict, reason_text(m))).collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("ignored: auto-reply (Auto-Submitted"), "{reasons:?}");
    assert!(reasons[1].starts_with("ignored: bounce"), "{reasons:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(inbox_with(auto.from, &token).await.is_empty(), "no reply to a robot");
    svc.stop(WAIT).await.expect("stops");
}
