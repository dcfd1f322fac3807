//! Hostile and broken mail: each gets a ticket or a quarantined record with a reason — no panic,
//! nothing lost — and nothing from it can inject headers into the mail routedesk sends. Headers
//! that would steer routedesk, written by an outsider, steer nothing.

use routedesk::desk::{Desk, Outcome};
use routedesk::outbox::compose::{Composer, Enclosures};
use routedesk::store::{Counted, Store};

use crate::service::on_both_databases;
use crate::support::mail::{base64_lines, png};
use crate::support::{Db, desk_on_new, unique};

const FROM: &str = "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\n";
const SIG: &str = "Mvh Kari\r\nDir. tlf. 61 12 64 26 - Mobil: 951 17 655\r\n";

fn with_attachment(subject: &str, ct: &str, name: &str, data: &[u8]) -> Vec<u8> {
    format!(
        "{FROM}Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFaktura feiler.\r\n{SIG}--b\r\n\
         Content-Type: {ct}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        base64_lines(data)
    )
    .into_bytes()
}

async fn outcome(desk: &Desk, raw: &[u8]) -> Outcome {
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

on_both_databases!(
    hostile_mail_gets_a_ticket_or_a_reason_and_nothing_is_lost,
    control_headers_from_outside_are_not_believed
);

async fn hostile_mail_gets_a_ticket_or_a_reason_and_nothing_is_lost(db: Db) {
    let (d, _database) = desk_on_new(db).await;
    let store = d.store().clone();
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
    assert!(
        store
            .ticket_by_number(&n)
            .await
            .expect("q")
            .expect("t")
            .missing
            .contains(&routedesk::domain::Detail::Screenshot)
    );

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
    assert_eq!(t.route_to, ["pureservice@gjovik.kommune.no"], "no sender: the helpdesk triages it");

    // One Message-ID, two different mails: two tickets. The same mail twice: one.
    let a = format!("{FROM}Subject: Feil i faktura\r\nMessage-ID: <same@x>\r\n\r\nFaktura A feiler.\r\n{SIG}");
    let b = format!("{FROM}Subject: Feil i faktura\r\nMessage-ID: <same@x>\r\n\r\nFaktura B feiler.\r\n{SIG}");
    ticket(&check(a.clone().into_bytes()).await);
    ticket(&check(b.into_bytes()).await);
    assert_eq!(check(a.into_bytes()).await, Outcome::Duplicate);

    // Header injection (test plan 34): CR, LF, CRLF and NUL — raw, or in RFC 2047 encoded words (Q
    // and B) — in the subject, the display name, the address and a header we copy never reach the
    // headers of any mail we send: routing, acknowledgement or request for details.
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
    let evil = "Bcc: evil@x.no";
    let injections = [
        format!(
            "From: =?utf-8?Q?Kari=0D=0A{}?= <kari.rohne@sondre-land.kommune.no>\r\nTo: helpdesk@routedesk.test\r\n\
             Subject: =?utf-8?Q?Feil_i_faktura=0D=0ABcc:_evil@x.no=0D=0AX-Evil:_1?=\r\n",
            evil.replace(' ', "_")
        ),
        format!(
            "From: =?utf-8?B?{}?= <kari.rohne@sondre-land.kommune.no>\r\nTo: helpdesk@routedesk.test\r\nSubject: =?utf-8?B?{}?=\r\n",
            b64("Kari\r\nBcc: evil@x.no"),
            b64("Feil i faktura\nX-Evil: 1\u{0}\rBcc: evil@x.no")
        ),
        "From: Kari =?utf-8?Q?R=00hne?= <kari.rohne@sondre-land.kommune.no>\r\nTo: helpdesk@routedesk.test\r\n\
         Subject: Feil i faktura\rBcc: evil@x.no\u{0}X-Evil: 1\r\nX-Mailer: x\rBcc: evil@x.no\r\n"
            .to_string(),
        "From: Kari <kari.rohne@sondre-land.kommune.no\r\nBcc: evil@x.no>\r\nTo: helpdesk@routedesk.test\r\n\
         Subject: Feil i faktura\r\nMessage-ID: <a\rBcc: evil@x.no@x>\r\nIn-Reply-To: <b=0D=0ABcc:_evil@x.no>\r\n"
            .to_string(),
    ];
    let composer = Composer::new("helpdesk@routedesk.test", "Helpdesk").expect("composer");
    let names = [
        "From",
        "To",
        "Cc",
        "Reply-To",
        "Subject",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Auto-Submitted",
        "X-Auto-Response-Suppress",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Precedence",
        "Content-Language",
        "X-Routedesk-Kind",
    ];
    let mut composed = 0;
    for head in &injections {
        // A sender of its own each: the replies to one sender are limited.
        let head = head.replace("kari.rohne@", &format!("{}@", unique("kari")));
        let n = ticket(&check(format!("{head}\r\nFaktura feiler.\r\n{SIG}").into_bytes()).await);
        let t = store.ticket_by_number(&n).await.expect("q").expect("t");
        for row in store.outbox_of(t.id).await.expect("outbox") {
            let raw = composer.compose(&row, Enclosures::default()).expect("composes").formatted();
            let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
            let head = String::from_utf8_lossy(&raw[..end]).into_owned();
            assert!(!head.contains('\0'), "a NUL in\n{head}");
            for line in head.split("\r\n") {
                assert!(!line.contains('\r') && !line.contains('\n'), "a bare CR or LF in {line:?} of\n{head}");
                if line.starts_with([' ', '\t']) {
                    continue;
                }
                let name = line.split(':').next().unwrap_or_default();
                assert!(
                    names.iter().any(|n| n.eq_ignore_ascii_case(name)),
                    "header {name:?} ({line:?}) is not one of ours in\n{head}"
                );
            }
            assert_eq!(head.lines().filter(|l| l.starts_with("Subject:")).count(), 1);
            composed += 1;
        }
    }
    assert!(composed >= injections.len(), "each report caused mail: {composed}");

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
         From: Tor Espen Berg <tor-espen.berg@gjovik.kommune.no>\r\nTo: helpdesk@routedesk.test\r\nSubject: Endre kontonummer for lønn\r\n\r\nLønn skal til ny konto.\r\n{SIG}"
    );
    let n = ticket(&check(forged.into_bytes()).await);
    let t = store.ticket_by_number(&n).await.expect("q").expect("t");
    assert_eq!(t.auth_result.as_deref(), Some("dmarc=fail (by mx.gjovik.kommune.no)"));
    assert!(
        store.outbox_of(t.id).await.expect("outbox").iter().all(|o| !o.kind.is_auto_reply()),
        "no automatic reply to a forged sender"
    );
    // Not vacuous: the same fault as earlier reports, so the helpdesk's incident mail was queued.
    assert!(!store.outbox_of(t.id).await.expect("outbox").is_empty(), "mail about it was queued");
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

/// What routedesk made of a mail, as far as the sender could tell or gain: the outcome's kind, the
/// ticket's status, municipality, flags and sender verdict, and the kinds of mail it queued.
#[derive(Debug, PartialEq)]
struct Treatment {
    outcome: &'static str,
    status: String,
    municipality: Option<String>,
    urgent: bool,
    auth_result: Option<String>,
    mail: Vec<String>,
}

async fn treatment(store: &Store, o: &Outcome) -> Treatment {
    let (outcome, number) = match o {
        Outcome::Ticket { number, .. } => ("ticket", number.clone()),
        Outcome::Reply { number, .. } => ("reply", number.clone()),
        Outcome::Ignored { reason } => panic!("ignored ({reason}), not treated as a stranger's report"),
        other => panic!("{other:?}"),
    };
    let t = store.ticket_by_number(&number).await.expect("q").expect("ticket");
    let mut mail: Vec<String> =
        store.outbox_of(t.id).await.expect("outbox").into_iter().map(|o| o.kind.to_string()).collect();
    mail.sort();
    Treatment {
        outcome,
        status: t.status.to_string(),
        municipality: t.municipality,
        urgent: t.urgent,
        auth_result: t.auth_result,
        mail,
    }
}

/// A report from Vestre Toten that lacks its screenshot, from its own sender (the per-sender reply
/// limit must not tell the cases apart), with `headers` on top.
fn report_from(sender: &str, headers: &str, message_id: &str, subject: &str) -> Vec<u8> {
    format!(
        "{headers}From: Ola Hansen <{sender}>\r\nTo: helpdesk@routedesk.test\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\n\r\nFakturaen kommer ikke fram til attestering.\r\n{SIG}"
    )
    .into_bytes()
}

/// Our own Message-ID with its signature spoiled (the last digit of the tag changed).
fn spoiled(id: &str) -> String {
    let at = id.find('@').unwrap_or(id.len());
    let last = if id[..at].ends_with('0') { '1' } else { '0' };
    format!("{}{last}{}", &id[..at - 1], &id[at..])
}

/// Test-plan item 36: routedesk's own headers (`X-Routedesk-*`), a Message-ID in our domain without
/// our signature, an `In-Reply-To` to a forged id of ours, `Auto-Submitted: no` on a bounce and an
/// `Authentication-Results` of someone else's server get the treatment a stranger's mail gets: a
/// report like any other (never "own mail coming back", never joined to a ticket, never a verified
/// sender), and a bounce is still a bounce.
async fn control_headers_from_outside_are_not_believed(db: Db) {
    let (d, _database) = desk_on_new(db).await;
    let store = d.store().clone();
    let mut n = 0;
    let mut sender = || {
        n += 1;
        format!("ola.hansen{n}@vestre-toten.kommune.no")
    };
    let fresh = || format!("{}@vestre-toten.kommune.no", unique("hdr-"));
    let subject = "Faktura kommer ikke til attestering";

    // A ticket of ours, and the signed Message-ID of the mail we sent about it.
    let kari = format!("{FROM}Subject: Feil i faktura\r\n\r\nFaktura feiler.\r\n{SIG}");
    let ours = ticket(&outcome(&d, kari.as_bytes()).await);
    let t = store.ticket_by_number(&ours).await.expect("q").expect("ticket");
    let sent = store.outbox_of(t.id).await.expect("outbox");
    let our_id = sent.first().expect("a mail about the ticket").message_id.clone();
    assert!(d.ids().is_ours(&our_id) && !d.ids().is_ours(&spoiled(&our_id)));
    let trail = store.events_of(t.id).await.expect("events").len();

    let baseline = treatment(&store, &outcome(&d, &report_from(&sender(), "", &fresh(), subject)).await).await;
    assert_eq!((baseline.outcome, baseline.status.as_str()), ("ticket", "awaiting-info"), "{baseline:?}");
    assert_eq!(baseline.mail, ["request-info"]);

    let forged_id = spoiled(&our_id);
    let cases: Vec<(&str, String, String, String)> = vec![
        ("X-Routedesk-Kind", "X-Routedesk-Kind: acknowledgement\r\n".into(), fresh(), subject.into()),
        (
            "X-Routedesk-* steering",
            "X-Routedesk-Kind: routing\r\nX-Routedesk-Municipality: gjovik\r\nX-Routedesk-Priority: urgent\r\n\
             X-Routedesk-Ticket: {ours}\r\nX-Routedesk-Trusted: yes\r\n"
                .replace("{ours}", &ours),
            fresh(),
            subject.into(),
        ),
        (
            "our domain, no signature",
            String::new(),
            "rd.0123456789abcdef.0123456789abcdef0123@routedesk.test".into(),
            subject.into(),
        ),
        ("our id, signature spoiled", String::new(), forged_id.trim_matches(['<', '>']).to_string(), subject.into()),
        (
            "In-Reply-To a forged id of ours",
            format!("In-Reply-To: <{forged_id}>\r\nReferences: <{forged_id}>\r\n"),
            fresh(),
            format!("SV: {subject}"),
        ),
        (
            "a foreign server's pass",
            "Authentication-Results: evil.example; dmarc=pass header.from=vestre-toten.kommune.no\r\n".into(),
            fresh(),
            subject.into(),
        ),
        (
            "a look-alike server's pass",
            "Authentication-Results: mx.gjovik.kommune.no.evil.example; dmarc=pass; dkim=pass\r\n".into(),
            fresh(),
            subject.into(),
        ),
    ];
    for (case, headers, message_id, subject) in cases {
        let o = outcome(&d, &report_from(&sender(), &headers, &message_id, &subject)).await;
        assert_eq!(treatment(&store, &o).await, baseline, "{case}: treated as a stranger's report");
    }
    assert_eq!(store.events_of(t.id).await.expect("events").len(), trail, "nothing joined our ticket");

    // A bounce that says it was written by hand is still a bounce: no ticket, no reply.
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.evil.example>\r\nTo: helpdesk@routedesk.test\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: no\r\nMessage-ID: <{}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nFaktura feiler. Mail could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.evil.example\r\n\r\n\
         Final-Recipient: rfc822; x@evil.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n",
        fresh()
    );
    let plain_bounce = format!(
        "From: MAILER-DAEMON@mx.evil.example\r\nTo: helpdesk@routedesk.test\r\nSubject: Faktura: returned mail\r\n\
         Auto-Submitted: no\r\nMessage-ID: <{}>\r\n\r\nFaktura feiler. The mail could not be delivered.\r\n{SIG}",
        fresh()
    );
    for bounce in [dsn, plain_bounce] {
        match outcome(&d, bounce.as_bytes()).await {
            Outcome::Ignored { reason } => assert!(reason.starts_with("bounce"), "{reason}"),
            other => panic!("a bounce with Auto-Submitted: no must stay a bounce, got {other:?}"),
        }
    }

    // Someone posing as our ticket's reporter: our server says DMARC failed; a foreign server's
    // pass — below ours or above it — changes nothing. Not joined, no reply, marked unverified.
    let reporter = t.reporter.clone().expect("a reporter");
    let ours_fail =
        "Authentication-Results: mx.gjovik.kommune.no; dmarc=fail (p=reject) header.from=sondre-land.kommune.no\r\n";
    let foreign_pass = "Authentication-Results: evil.example; dmarc=pass header.from=sondre-land.kommune.no\r\n";
    for headers in [format!("{ours_fail}{foreign_pass}"), format!("{foreign_pass}{ours_fail}")] {
        let raw = format!(
            "{headers}From: Kari Røhne <{reporter}>\r\nTo: helpdesk@routedesk.test\r\nSubject: SV: [{ours}] Feil i faktura\r\n\
             Message-ID: <{}>\r\nIn-Reply-To: <{our_id}>\r\n\r\nHer er skjermbildet og mitt nye kontonummer.\r\n{SIG}",
            fresh()
        );
        let o = outcome(&d, raw.as_bytes()).await;
        let got = treatment(&store, &o).await;
        assert_eq!(got.outcome, "ticket", "a forged reporter joins nothing: {got:?}");
        assert_eq!(got.auth_result.as_deref(), Some("dmarc=fail (by mx.gjovik.kommune.no)"));
        assert!(!got.mail.iter().any(|k| k == "acknowledgement" || k == "request-info"), "no reply: {got:?}");
    }
    assert_eq!(store.events_of(t.id).await.expect("events").len() - trail, 2, "only two notes that it was mentioned");
}
