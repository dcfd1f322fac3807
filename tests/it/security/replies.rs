//! Automatic replies go to one valid address inside the region, or nowhere: a list packed into one
//! `From`, a `Reply-To` list, addresses written in the body — none of them turns the helpdesk into
//! a mailer for outside addresses. Delivered by IMAP APPEND, as Exchange Online would hand it over
//! (the rig's Postfix would rewrite such a `From` on the way in and hide the problem).

use std::time::Duration;

use super::super::service::{HELPDESK, on_both_databases};
use crate::support::mail::{append, inbox_with};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(30);
const OUTSIDE: [&str; 4] = ["a@x.example", "b@y.example", "c@z.example", "evil@x.example"];

on_both_databases!(
    a_list_in_one_from_address_mails_nobody_outside,
    reply_to_lists_and_body_addresses_never_get_replies,
    an_outside_sender_gets_no_reply_whatever_its_reply_to
);

/// A report to the helpdesk `to`.
fn raw(token: &str, to: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{headers}To: {to}\r\nSubject: {token} Lønnskjøringen stopper med feilmelding\r\n\
         Message-ID: <{token}@sender.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hei,\r\n\r\nlønnskjøringen i Visma stopper med en feilmelding.\r\n{body}\r\n\r\nMvh\r\nKari\r\nTlf. 61 18 97 26, mobil 928 41 377\r\n"
    )
    .into_bytes()
}

/// Waits for `address` to receive the mail tagged `token` that is expected, then checks that no
/// other address got anything tagged `token`.
async fn only(address: &str, token: &str, nobody_else: &[&str]) -> Vec<crate::support::mail::Received> {
    let got = eventually(&format!("the mail to {address}"), WAIT, || async {
        let m = inbox_with(address, token).await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    // The queue is worked in order: anything queued with the expected mail has gone out by now.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for other in nobody_else {
        assert!(inbox_with(other, token).await.is_empty(), "{other} must get nothing");
    }
    got
}

async fn a_list_in_one_from_address_mails_nobody_outside(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("T");
    let mail = raw(
        &token,
        &hd.address,
        "From: Kari Nordmann <a@x.example,b@y.example,kari.nordmann@gjovik.kommune.no>\r\n",
        "Svar gjerne til c@z.example.",
    );
    append(&hd.address, "INBOX", &mail).await;

    // The sender is no address: the helpdesk triages it by hand, and that is the only mail.
    let mut nobody = OUTSIDE.to_vec();
    nobody.push("kari.nordmann@gjovik.kommune.no");
    let routed = only(HELPDESK, &token, &nobody).await;
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].to, [HELPDESK]);

    let store = hd.store().await;
    let t = store.tickets(5).await.expect("tickets").into_iter().find(|t| t.subject.contains(&token)).expect("ticket");
    assert_eq!((t.reporter, t.municipality, t.status.as_str()), (None, None, "triage"));
    let outbox = store.outbox_of(t.id).await.expect("outbox");
    let recipients: Vec<&str> = outbox.iter().flat_map(|o| o.recipients()).map(|a| a.as_str()).collect();
    assert_eq!(recipients, [HELPDESK], "one mail, to the helpdesk only");
    svc.stop(WAIT).await.expect("stops");
}

async fn reply_to_lists_and_body_addresses_never_get_replies(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let kari = format!("{}@gjovik.kommune.no", unique("kari-").to_lowercase());
    let ola = format!("{}@gjovik.kommune.no", unique("ola-").to_lowercase());
    // A list in Reply-To, an outside single Reply-To, and outside addresses in the body: each
    // report gets one request for details, to the From address.
    for reply_to in [format!("a@x.example, {ola}"), "evil@x.example".to_string(), format!("{ola}, {ola}")] {
        let token = unique("T");
        let headers = format!("From: Kari Nordmann <{kari}>\r\nReply-To: {reply_to}\r\n");
        let mail = raw(&token, &hd.address, &headers, "Kopi til evil@x.example og c@z.example, takk.");
        append(&hd.address, "INBOX", &mail).await;
        let mut nobody = OUTSIDE.to_vec();
        nobody.push(&ola);
        let asked = only(&kari, &token, &nobody).await;
        assert_eq!(asked.len(), 1, "one request for details, to {kari}");
        assert_eq!(asked[0].to, std::slice::from_ref(&kari));
        assert!(asked[0].subject.contains("Mangler opplysninger"), "{}", asked[0].subject);
    }
    svc.stop(WAIT).await.expect("stops");
}

async fn an_outside_sender_gets_no_reply_whatever_its_reply_to(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let token = unique("T");
    let victim = format!("{}@gjovik.kommune.no", unique("victim-").to_lowercase());
    let headers = format!("From: Stranger <stranger@evil.example>\r\nReply-To: {victim}\r\n");
    append(&hd.address, "INBOX", &raw(&token, &hd.address, &headers, &format!("Svar til {victim}."))).await;
    let mut nobody = OUTSIDE.to_vec();
    nobody.extend([victim.as_str(), "stranger@evil.example"]);
    only(HELPDESK, &token, &nobody).await;
    svc.stop(WAIT).await.expect("stops");
}
