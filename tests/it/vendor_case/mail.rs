//! The vendor case by mail, on the rig: the routing mail asks the system administrator for the
//! vendor's case number; their reply records it (and "open for all"), a stranger's reply with the
//! same words changes nothing, a question goes to the reporter and the answer comes back, and
//! "løst" resolves the ticket and tells the reporter.

use std::time::Duration;

use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Received, Report, inbox_with, send};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};
use routedesk::domain::TicketStatus;

const WAIT: Duration = Duration::from_secs(30);
const STRANGER: &str = "stranger@evil.example";

on_both_databases!(the_vendor_case_is_followed_to_its_end_by_mail);

/// A reply to `to_mail` from `from`, quoting it as mail clients do.
pub fn reply<'a>(from: &'a str, helpdesk: &'a str, to_mail: &Received, text: &str) -> Report<'a> {
    let quoted: String = to_mail.text.lines().map(|l| format!("> {l}\n")).collect();
    Report {
        from_name: "Svarer",
        from,
        to: helpdesk,
        subject: format!("SV: {}", to_mail.subject),
        body: format!("{text}\n\n{quoted}"),
        screenshot: false,
        message_id: unique("reply-") + "@gjovik.kommune.no",
        in_reply_to: Some(to_mail.message_id.clone()),
        ..Report::complete("", helpdesk)
    }
}

/// The one mail to `address` about `token` whose subject has `marker`.
pub async fn mail_with(address: &str, token: &str, marker: &str) -> Received {
    eventually(&format!("mail to {address} with {marker:?}"), WAIT, || async {
        inbox_with(address, token).await.into_iter().find(|m| m.subject.contains(marker))
    })
    .await
}

async fn the_vendor_case_is_followed_to_its_end_by_mail(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;
    let token = unique("V");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;

    // The routing mail asks for the case number; the reporter has their acknowledgement.
    let contact = GJOVIK_CONTACTS[1];
    let routing = mail_with(contact, &token, "Feilmelding").await;
    assert!(
        routing.text.contains("MELD TIL VISMA") && routing.text.contains("«Visma-sak» og nummeret"),
        "{}",
        routing.text
    );
    mail_with(report.from, &token, "Mottatt").await;
    let number = routing.subject[1..15].to_string();
    let t = store.ticket_by_number(&number).await.expect("query").expect("the ticket");
    let case = store.vendor_case_of(t.id).await.expect("query").expect("asked for");
    assert_eq!(case.case_number, None);

    // A stranger answering with the case words and "løst" opens a ticket of their own, nothing more.
    let strangers = reply(STRANGER, &hd.address, &routing, "Visma-sak 99999999\nÅpen for alle\nLøst");
    send(&strangers.to_bytes(), STRANGER, &hd.address).await;
    eventually("the stranger's own ticket", WAIT, || async {
        store.tickets(20).await.ok()?.into_iter().find(|x| x.id != t.id && x.subject.contains(&token))
    })
    .await;
    let case = store.vendor_case_of(t.id).await.expect("query").expect("the case");
    assert_eq!((case.case_number, case.open_to_region), (None, false), "a stranger's words do nothing");
    assert_eq!(store.ticket_by_number(&number).await.expect("q").expect("t").status, TicketStatus::Routed);

    // The administrator answers with the case number and "open for all" above the quoted mail.
    let answer = reply(
        contact,
        &hd.address,
        &routing,
        "Hei,\n\nMeldt til Visma.\nVisma-sak 12345678\nÅpen for alle\n\nHilsen Håvard",
    );
    send(&answer.to_bytes(), contact, &hd.address).await;
    let case = eventually("the case number on the ticket", WAIT, || async {
        store.vendor_case_of(t.id).await.ok()?.filter(|c| c.case_number.is_some() && c.open_to_region)
    })
    .await;
    assert_eq!(case.case_number.as_deref(), Some("12345678"));
    assert_eq!(case.recorded_by.as_deref(), Some(contact), "recorded as the contact's");
    let trail = store.events_of(t.id).await.expect("events");
    assert!(trail.iter().any(|e| e.kind == "vendor-case" && e.actor == contact), "confirmed in the audit trail");

    // A question for the reporter goes to them; their answer comes back to the contacts.
    let ask = reply(contact, &hd.address, &routing, "Mer info: Hvilken lønnsperiode gjelder det?");
    send(&ask.to_bytes(), contact, &hd.address).await;
    let question = mail_with(report.from, &token, "Spørsmål").await;
    assert!(
        question.text.contains("Hvilken lønnsperiode gjelder det?") && question.text.contains("Håvard Hammerstad"),
        "{}",
        question.text
    );
    let answered = reply(report.from, &hd.address, &question, "Det gjelder november.");
    send(&answered.to_bytes(), report.from, &hd.address).await;
    let forwarded = mail_with(contact, &token, "Svar fra innmelder").await;
    assert!(forwarded.text.contains("Det gjelder november."), "{}", forwarded.text);
    assert!(!forwarded.text.contains("> "), "the answer without the quoted question: {}", forwarded.text);

    // "Løst": the ticket is resolved and the reporter told, with the vendor's case number.
    let solved = reply(contact, &hd.address, &routing, "Løst.");
    send(&solved.to_bytes(), contact, &hd.address).await;
    let told = mail_with(report.from, &token, "Løst").await;
    assert!(told.text.contains("løst hos Visma (sak 12345678)"), "{}", told.text);
    let t = store.ticket_by_number(&number).await.expect("q").expect("t");
    assert_eq!(t.status, TicketStatus::Resolved);
    let case = store.vendor_case_of(t.id).await.expect("query").expect("the case");
    assert_eq!(case.resolved_by.as_deref(), Some(contact));
    for (address, marker, n) in
        [(report.from, "Løst", 1), (report.from, "Spørsmål", 1), (contact, "Svar fra innmelder", 1)]
    {
        let got = inbox_with(address, &token).await.into_iter().filter(|m| m.subject.contains(marker)).count();
        assert_eq!(got, n, "{address} got {marker:?} once");
    }
    svc.stop(WAIT).await.expect("stops");
}
