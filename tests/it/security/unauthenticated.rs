//! Test plan 35 (c): where the operator requires it (`require_authentication`), a mail without
//! our server's `Authentication-Results` is unverified — no automatic reply, no joining a ticket —
//! unless it carries the marker our own server sets on mail between its users.

use routedesk::desk::{Desk, Outcome};
use routedesk::store::Store;

use crate::service::on_both_databases;
use crate::support::scratch::TestDatabase;
use crate::support::{Db, desk_config};

on_both_databases!(without_our_servers_word_a_sender_is_unverified_unless_marked_internal);

const MARKER: &str = "X-MS-Exchange-Organization-AuthAs: Internal";

fn mail(id: &str, extra: &str, in_reply_to: Option<&str>, subject: &str) -> Vec<u8> {
    let parent = in_reply_to.map(|p| format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n")).unwrap_or_default();
    format!(
        "From: Randi Kristiansen <randi.kristiansen@gjovik.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\n\
         Subject: {subject}\r\nMessage-ID: <{id}@gjovik.kommune.no>\r\n{parent}{extra}MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nLønnskjøringen gir feil beløp på lønnsart 1120.\r\n\
         Tlf. 61 18 97 26, mobil 928 41 377, randi.kristiansen@gjovik.kommune.no\r\n"
    )
    .into_bytes()
}

async fn without_our_servers_word_a_sender_is_unverified_unless_marked_internal(db: Db) {
    let database = TestDatabase::new(db).await;
    let store = Store::connect(&database.url).await.expect("store");
    let mut cfg = desk_config(&database.url);
    cfg.require_authentication = true;
    cfg.internal_marker = MARKER.into();
    assert!(cfg.validate().is_ok(), "a valid configuration");
    let desk = Desk::new(&cfg, store.clone()).await.expect("desk");
    let ticket = |o: Outcome| match o {
        Outcome::Ticket { number, .. } => number,
        other => panic!("a ticket, not {other:?}"),
    };
    let acknowledged = |n: String| {
        let store = store.clone();
        async move {
            let t = store.ticket_by_number(&n).await.expect("q").expect("ticket");
            let out = store.outbox_of(t.id).await.expect("outbox");
            (t, out.iter().any(|m| m.kind.is_auto_reply()))
        }
    };

    // No word from our server: a ticket, routed, but no reply, and marked unverified.
    let bare = ticket(desk.ingest(&mail("bare", "", None, "Lønn feiler"), None).await.expect("ingest"));
    let (t, acked) = acknowledged(bare.clone()).await;
    assert!(!acked, "no automatic reply to a sender nobody vouched for");
    assert!(t.auth_result.as_deref().is_some_and(|a| a.contains("=missing")), "{:?}", t.auth_result);
    // Its "reply" does not join the ticket.
    let reply = mail("bare-2", "", Some("bare"), &format!("SV: [{bare}] Lønn feiler"));
    let o = desk.ingest(&reply, None).await.expect("ingest");
    assert!(matches!(o, Outcome::Ticket { .. }), "a new ticket that mentions it: {o:?}");

    // Our server's pass, or the internal marker: verified, answered, and replies join.
    let pass = "Authentication-Results: mx.gjovik.kommune.no; dmarc=pass header.from=gjovik.kommune.no\r\n";
    let verified = ticket(desk.ingest(&mail("pass", pass, None, "Lønn feiler igjen"), None).await.expect("ingest"));
    assert!(acknowledged(verified).await.1, "answered");
    let internal = format!("{MARKER}\r\n");
    let marked =
        ticket(desk.ingest(&mail("internal", &internal, None, "Lønn feiler enda"), None).await.expect("ingest"));
    assert!(acknowledged(marked.clone()).await.1, "answered: our own server vouched for it");
    let reply = mail("internal-2", &internal, Some("internal"), &format!("SV: [{marked}] Lønn feiler enda"));
    let o = desk.ingest(&reply, None).await.expect("ingest");
    assert!(matches!(o, Outcome::Reply { .. }), "joins its ticket: {o:?}");

    // Without the switch (the default), a mail without our server's word is believed, as before.
    let mut lax = desk_config(&database.url);
    lax.internal_marker = String::new();
    let desk = Desk::new(&lax, store.clone()).await.expect("desk");
    let believed = ticket(desk.ingest(&mail("lax", "", None, "Lønn feiler nok en gang"), None).await.expect("ingest"));
    assert!(acknowledged(believed).await.1);
    let mut wrong = desk_config(&database.url);
    wrong.require_authentication = true;
    wrong.trusted_authserv_id = String::new();
    assert!(wrong.validate().is_err(), "nothing could ever be verified");
    wrong.trusted_authserv_id = "mx.gjovik.kommune.no".into();
    wrong.internal_marker = "no colon here".into();
    assert!(wrong.validate().is_err(), "a marker is a header and a value");
}
