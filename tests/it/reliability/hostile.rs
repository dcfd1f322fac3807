//! Hostile and broken mail: each gets a ticket or a quarantined record with a reason — no panic,
//! nothing lost — and nothing from it can inject headers into the mail routedesk sends.

use std::sync::Arc;

use routedesk::ingest::{Ingestor, Outcome};
use routedesk::outbox::compose::{Composer, Enclosures};
use routedesk::pipeline::parse::ParseLimits;
use routedesk::policy::Policy;
use routedesk::store::{Counted, Store};

use crate::service::on_both_databases;
use crate::support::mail::png;
use crate::support::{Db, database_url};

async fn desk(db: Db) -> Ingestor {
    let store = Store::connect(&database_url(db).await).await.expect("store");
    Ingestor {
        ids: routedesk::service::message_ids(&store, "helpdesk@routedesk.test").await.expect("ids"),
        store,
        policy: Arc::new(Policy::default_region().expect("policy")),
        limits: ParseLimits::default(),
        mailbox: "helpdesk@routedesk.test".into(),
        dry_run: false,
        replies_per_sender_per_hour: 5,
        trusted_authserv_id: "mx.gjovik.kommune.no".into(),
        grouping: Default::default(),
        vendor: std::sync::Arc::new(routedesk::vendor::Watch::new(vec![])),
        status_page: None,
    }
}

fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + 4);
    for (i, chunk) in data.chunks(3).enumerate() {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for j in 0..4 {
            out.push(if j <= chunk.len() { A[(n >> (18 - 6 * j)) as usize & 63] as char } else { '=' });
        }
        if i % 19 == 18 {
            out.push_str("\r\n");
        }
    }
    out
}

const FROM: &str = "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\n";
const SIG: &str = "Mvh Kari\r\nDir. tlf. 61 12 64 26 - Mobil: 951 17 655\r\n";

fn with_attachment(subject: &str, ct: &str, name: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "{FROM}Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFaktura feiler.\r\n{SIG}--b\r\n\
         Content-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        b64(data)
    )
    .into_bytes()
}

async fn outcome(desk: &Ingestor, raw: &[u8]) -> Outcome {
    let r = std::panic::AssertUnwindSafe(desk.ingest(raw, None));
    futures_util::FutureExt::catch_unwind(r).await.expect("no panic").expect("recorded")
}

fn quarantined(o: &Outcome, why: &str) {
    match o {
        Outcome::Quarantined { reason } => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected quarantine ({why}), got {other:?}"),
    }
}

fn ticket(o: &Outcome) -> String {
    match o {
        Outcome::Ticket { number, .. } => number.clone(),
        other => panic!("expected a ticket, got {other:?}"),
    }
}

on_both_databases!(hostile_mail_gets_a_ticket_or_a_reason_and_nothing_is_lost);

async fn hostile_mail_gets_a_ticket_or_a_reason_and_nothing_is_lost(db: Db) {
    let d = desk(db).await;
    let store = d.store.clone();
    let mut recorded = 0;
    let mut check = async |raw: Vec<u8>| {
        recorded += 1;
        outcome(&d, &raw).await
    };

    // Size, parts and nesting beyond the limits.
    let huge = with_attachment("Stor logg", "application/octet-stream", "logg.bin", &vec![7u8; 30 * 1024 * 1024]);
    quarantined(&check(huge).await, "the limit is 26214400");
    let mut many =
        format!("{FROM}Subject: Mange deler\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n");
    for i in 0..10_000 {
        many.push_str(&format!("--b\r\nContent-Type: text/plain\r\n\r\ndel {i}\r\n"));
    }
    many.push_str("--b--\r\n");
    quarantined(&check(many.into_bytes()).await, "more than 500 MIME parts");
    let mut deep = format!("{FROM}Subject: Dyp\r\nMIME-Version: 1.0\r\n");
    for i in 0..100 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nbunn\r\n");
    quarantined(&check(deep.into_bytes()).await, "deep");

    // A zip bomb is stored as the small file it is, never unpacked.
    let mut zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
    zip.extend_from_slice(&[0u8; 16]);
    zip.extend_from_slice(&u32::MAX.to_le_bytes());
    zip.extend_from_slice(&[0x78, 0x9c, 0x03, 0x00]);
    ticket(&check(with_attachment("Feil i faktura, se zip", "application/zip", "bombe.zip", &zip)).await);

    // A 1×50,000 pixel PNG header is no screenshot.
    let n = ticket(&check(with_attachment("Feil i faktura", "image/png", "strek.png", &png(1, 50_000))).await);
    assert!(store.ticket_by_number(&n).await.expect("q").expect("t").missing.contains("screenshot"));

    // Broken text: invalid UTF-8, an unknown charset, NUL bytes, a header line of 1 MB, no headers.
    let mut bad = format!(
        "{FROM}Subject: =?x-unknown?Q?Feil_i_l=F8nn?=\r\nContent-Type: text/plain; charset=x-unknown-42\r\n\r\n"
    )
    .into_bytes();
    bad.extend_from_slice(b"L\xf8nn \xff\xfe feiler\x00\x00 midt i teksten\r\n");
    bad.extend_from_slice(SIG.as_bytes());
    let n = ticket(&check(bad).await);
    assert!(!store.ticket_by_number(&n).await.expect("q").expect("t").subject.contains('\0'));
    let long = format!("{FROM}Subject: {}\r\n\r\nLønn feiler.\r\n", "lønn ".repeat(200_000));
    let n = ticket(&check(long.into_bytes()).await);
    assert!(store.ticket_by_number(&n).await.expect("q").expect("t").subject.len() <= 1000, "a huge subject is cut");
    let bare = b"\r\nEn melding uten noen hoder. Lonn feiler.\r\n".to_vec();
    let o = check(bare).await;
    assert!(matches!(o, Outcome::Quarantined { .. } | Outcome::Ticket { .. }), "{o:?}");
    let headerless = b"X-Nothing: here\r\n\r\nLonn feiler.\r\n".to_vec();
    let n = ticket(&check(headerless).await);
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    assert_eq!(t.route_to, "pureservice@gjovik.kommune.no", "no sender: the helpdesk triages it");

    // One Message-ID, two different mails: two tickets. The same mail twice: one.
    let a = format!("{FROM}Subject: Feil i faktura\r\nMessage-ID: <same@x>\r\n\r\nFaktura A feiler.\r\n{SIG}");
    let b = format!("{FROM}Subject: Feil i faktura\r\nMessage-ID: <same@x>\r\n\r\nFaktura B feiler.\r\n{SIG}");
    ticket(&check(a.clone().into_bytes()).await);
    ticket(&check(b.into_bytes()).await);
    assert_eq!(check(a.into_bytes()).await, Outcome::Duplicate);

    // Header injection through the subject and the display name never reaches our mail's headers.
    let inject = format!(
        "From: =?utf-8?Q?Kari=0D=0ABcc:_evil@x.no?= <kari.rohne@sondre-land.kommune.no>\r\nTo: x@y.no\r\n\
         Subject: =?utf-8?Q?Feil_i_faktura=0D=0ABcc:_evil@x.no=0D=0AX-Evil:_1?=\r\n\r\nFaktura feiler.\r\n{SIG}"
    );
    let n = ticket(&check(inject.into_bytes()).await);
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    let composer = Composer::new("helpdesk@routedesk.test", "Helpdesk").expect("composer");
    for row in store.outbox_of(t.id).await.expect("outbox") {
        let raw =
            String::from_utf8_lossy(&composer.compose(&row, Enclosures::default()).expect("composes").formatted())
                .into_owned();
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        for line in head.lines() {
            assert!(
                !line.starts_with("Bcc:") && !line.starts_with("X-Evil"),
                "injected header line {line:?} in\n{head}"
            );
        }
        assert_eq!(head.lines().filter(|l| l.starts_with("Subject:")).count(), 1);
    }

    // Scripts in HTML and SVG, and javascript: links, are stored as sent (shown only sanitised).
    let html = format!(
        "{FROM}Subject: Feil i faktura\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script><a href=\"javascript:alert(2)\">x</a><p>Faktura feiler</p>\r\n"
    );
    ticket(&check(html.into_bytes()).await);
    ticket(
        &check(with_attachment(
            "Feil i faktura",
            "image/svg+xml",
            "x.svg",
            b"<svg onload=\"alert(1)\"><script>alert(2)</script></svg>",
        ))
        .await,
    );

    // A forged sender of another municipality: our server says DMARC failed. No reply, a warning.
    let forged = format!(
        "Authentication-Results: mx.gjovik.kommune.no; spf=fail smtp.mailfrom=evil.example; dmarc=fail (p=reject) header.from=gjovik.kommune.no\r\n\
         From: Tor Espen Berg <tor-espen.berg@gjovik.kommune.no>\r\nTo: x@y.no\r\nSubject: Endre kontonummer for lønn\r\n\r\nLønn skal til ny konto.\r\n{SIG}"
    );
    let n = ticket(&check(forged.into_bytes()).await);
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    assert_eq!(t.auth_result.as_deref(), Some("dmarc=fail (by mx.gjovik.kommune.no)"));
    assert!(
        store.outbox_of(t.id).await.expect("outbox").iter().all(|o| o.kind == "routing"),
        "no automatic reply to a forged sender"
    );
    // A pass claimed by a foreign server counts for nothing.
    let claimed = format!(
        "Authentication-Results: evil.example; dmarc=pass\r\n{FROM}Subject: Feil i faktura\r\n\r\nFaktura.\r\n{SIG}"
    );
    let n = ticket(&check(claimed.into_bytes()).await);
    assert_eq!(store.ticket_by_number(&n).await.expect("q").expect("t").auth_result, None);

    // Nothing lost: every mail is recorded, as a ticket or with its reason.
    assert_eq!(
        store.count(Counted::Inbound).await.expect("count"),
        recorded - 1,
        "every mail recorded once (one was a duplicate)"
    );
}
