//! Robots without robot headers, and people whose words look like a robot's.

use crate::pipeline::ignore::{IgnoreKind, screen};
use crate::pipeline::parse::{ParseLimits, parse};

fn kind(raw: &str) -> Option<IgnoreKind> {
    let mail = parse(raw.replace('\n', "\r\n").as_bytes(), &ParseLimits::default()).expect("parses");
    screen(&mail).map(|i| i.kind)
}

const PERSON: &str = "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\nTo: helpdesk@gjovik.kommune.no\n";

#[test]
fn plain_text_bounces_of_the_common_servers_are_bounces() {
    let cases = [
        // Postfix, without its DSN structure, from a relay that rewrote the sender.
        "From: Mail System <relay@mx.example.no>\nSubject: Undelivered Mail Returned to Sender\n\n\
         This is the mail system at host mx.example.no.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n",
        // Exchange, Norwegian, from the organisation's own mailbox.
        "From: Microsoft Outlook <noreply@gjovik.kommune.no>\nSubject: Kan ikke leveres: Lønn feiler\n\n\
         Leveringen til disse mottakerne eller gruppene mislyktes:\n\nola@example.no\n\nDiagnostisk informasjon for administratorer:\n",
        // Exchange, English.
        "From: Exchange <exchange@vestre-toten.kommune.no>\nSubject: Undeliverable: Faktura\n\n\
         Your message couldn't be delivered to ola@example.no.\n\nDiagnostic information for administrators:\nRemote Server returned '550 5.1.1'\n",
        // qmail.
        "From: alerts@mx.example.no\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.no.\n",
        // Sendmail, subject only.
        "From: relay@mx.example.no\nSubject: Returned mail: see transcript for details\n\nThe original message was received.\n",
        // A Norwegian subject with a robot sender and no telling body.
        "From: postmaster-svar@kommune.example\nSubject: Ikke levert: Lønn\n\nSe vedlegg.\n",
        // X-Failed-Recipients, whatever else it says.
        "From: relay@mx.example.no\nX-Failed-Recipients: ola@example.no\nSubject: Mail delivery failed\n\nA message that you sent could not be delivered to one or more of its recipients.\n",
        // "Your message to … could not be delivered", with a DSN-like text body.
        "From: relay@mx.example.no\nSubject: Your message to ola@example.no could not be delivered\n\n\
         Final-Recipient: rfc822; ola@example.no\nDiagnostic-Code: smtp; 550 no such user\n",
    ];
    for raw in cases {
        assert_eq!(kind(raw), Some(IgnoreKind::Bounce), "{raw}");
    }
}

#[test]
fn people_who_quote_a_bounce_still_get_a_ticket() {
    let cases = [
        format!(
            "{PERSON}Subject: Fikk feilmelding 'could not be delivered' i Visma\n\n\
             Når jeg sender A-meldingen får jeg 'could not be delivered'. Skjermbilde vedlagt.\nMvh Kari, tlf 61 12 64 26\n"
        ),
        format!(
            "{PERSON}Subject: Ikke levert: lønnsfil til banken\n\nLønnsfila ble ikke levert til banken i natt. Hva gjør vi?\n"
        ),
        format!(
            "{PERSON}Subject: VS: Undeliverable: Faktura\n\nHei, jeg får denne feilen når jeg sender faktura:\n\n\
             Your message couldn't be delivered to ola@example.no.\n"
        ),
        format!(
            "{PERSON}Subject: Delivery failure i Visma.net\n\nFakturaene blir ikke sendt fra Visma.net, status sier delivery failure.\n"
        ),
    ];
    for raw in &cases {
        assert_eq!(kind(raw), None, "{raw}");
    }
}

#[test]
fn vacation_replies_without_headers_are_auto_replies() {
    let cases = [
        format!("{PERSON}Subject: Fraværsmelding\n\nJeg er på ferie til 4. januar. Kontakt servicetorget.\n"),
        format!("{PERSON}Subject: Fraværsmelding: Lønn feiler\n\nTakk for meldingen.\n"),
        format!(
            "{PERSON}Subject: Out of Office\n\nI am out of the office until Monday with limited access to email.\n"
        ),
        format!(
            "{PERSON}Subject: Automatisk svar - Faktura\n\nJeg er ute av kontoret og har begrenset tilgang til e-post.\n"
        ),
    ];
    for raw in &cases {
        assert_eq!(kind(raw), Some(IgnoreKind::AutoReply), "{raw}");
    }
    // People writing about their own absence notices are no robots.
    let people = [
        format!(
            "{PERSON}Subject: Fraværsmelding virker ikke i Outlook\n\nJeg skal på ferie og får ikke satt opp fraværsmeldingen.\n"
        ),
        format!(
            "{PERSON}Subject: Out of office-assistenten henger\n\nOutlook henger når jeg åpner den. Tlf 61 12 64 26\n"
        ),
    ];
    for raw in &people {
        assert_eq!(kind(raw), None, "{raw}");
    }
}

#[test]
fn read_receipts_and_calendar_mail_are_no_reports() {
    let mdn = format!(
        "{PERSON}Subject: Lest: Lønn feiler\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n\
         --b\nContent-Type: text/plain\n\nMeldingen ble lest.\n--b\nContent-Type: message/disposition-notification\n\n\
         Final-Recipient: rfc822; kari.rohne@sondre-land.kommune.no\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n"
    );
    assert_eq!(kind(&mdn), Some(IgnoreKind::ReadReceipt));
    for method in ["REPLY", "CANCEL", "REQUEST"] {
        // Outlook: the answer as an alternative body with the method as a parameter and a line.
        let raw = format!(
            "{PERSON}Subject: Godtatt: Gjennomgang av lønnsfeil\nContent-Type: multipart/alternative; boundary=b\n\n\
             --b\nContent-Type: text/plain\n\nGodtatt.\n--b\nContent-Type: text/calendar; method={method}; charset=utf-8\n\n\
             BEGIN:VCALENDAR\nMETHOD:{method}\nBEGIN:VEVENT\nSUMMARY:Gjennomgang\nEND:VEVENT\nEND:VCALENDAR\n--b--\n"
        );
        assert_eq!(kind(&raw), Some(IgnoreKind::Calendar), "{method}");
    }
    let bare = format!(
        "{PERSON}Subject: Avlyst: møte\nContent-Type: text/calendar; method=CANCEL\n\nBEGIN:VCALENDAR\nMETHOD:CANCEL\nEND:VCALENDAR\n"
    );
    assert_eq!(kind(&bare), Some(IgnoreKind::Calendar));
    // A delivery report is still a bounce.
    let dsn = format!(
        "{PERSON}Subject: x\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nfailed\n--b--\n"
    );
    assert_eq!(kind(&dsn), Some(IgnoreKind::Bounce));
}

#[test]
fn a_from_without_address_is_no_robot_while_someone_can_be_answered() {
    let with_reply_to = "From: \"Kari Røhne\"\nReturn-Path: <>\nReply-To: kari.rohne@sondre-land.kommune.no\n\
                         Subject: Lønn feiler\n\nLønnskjøringen stopper. Tlf 61 12 64 26\n";
    let mail = parse(with_reply_to.replace('\n', "\r\n").as_bytes(), &ParseLimits::default()).expect("parses");
    assert_eq!(screen(&mail), None);
    assert_eq!(mail.from_address().map(String::from).as_deref(), Some("kari.rohne@sondre-land.kommune.no"));
    assert!(mail.problems.iter().any(|p| p.contains("taken from Reply-To")), "{:?}", mail.problems);

    let with_sender = "From: =?GB2312?B?uaTXyrWltO3O8w==?= <>\nReturn-Path: <>\nSender: ola@gjovik.kommune.no\n\
                       Subject: x\n\ny\n";
    let mail = parse(with_sender.replace('\n', "\r\n").as_bytes(), &ParseLimits::default()).expect("parses");
    assert_eq!(screen(&mail), None);
    assert_eq!(mail.from_address().map(String::from).as_deref(), Some("ola@gjovik.kommune.no"));

    let nobody = "From: \"Mail System\"\nReturn-Path: <>\nSubject: x\n\ny\n";
    assert_eq!(kind(nobody), Some(IgnoreKind::Bounce));
    // A robot's From stays a robot's, whatever stands in for it.
    let daemon = "From: MAILER-DAEMON\nSender: relay@mx.example.no\nSubject: x\n\ny\n";
    assert_eq!(kind(daemon), Some(IgnoreKind::Bounce));
}
