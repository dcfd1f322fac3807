//! A data subject's erasure (`routedesk erase --person`), on the real rig: a person sends two reports
//! of a fault others have too (they become a suspected incident, titled after the first) and
//! answers the request for details with their phone number and a word no one else writes; their
//! out-of-office reply is set aside; a colleague's report names their address. After the erasure,
//! neither their address, name, phone number nor that word is anywhere in the database (every byte
//! of it) or in the helpdesk mailbox (every folder); the statistics are as they were, and everyone
//! else's reports are kept (the colleague's without the address).

use std::time::Duration;

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, MultiPart, SinglePart};
use routedesk::store::{Counted, Store, TicketFilter};

use crate::service::on_both_databases;
use crate::support::mail::{every_mail, png, send};
use crate::support::rig::RIG_LOCK;
use crate::support::scan::{database_bytes, found, holds};
use crate::support::{Db, eventually, spawn_helpdesk, unique};
use routedesk::domain::{OutboxKind, TicketStatus};

const WAIT: Duration = Duration::from_secs(30);

on_both_databases!(an_erased_person_leaves_no_trace_in_the_database_or_the_mailbox);

/// A mail as a mail client writes it: the text as it is (8bit, so it can be found in the raw
/// mail), and a screenshot when asked for.
fn mail(from: &str, to: &str, subject: &str, text: &str, screenshot: bool, in_reply_to: Option<&str>) -> Vec<u8> {
    let mut b = Message::builder()
        .from(from.parse().expect("from"))
        .to(to.parse().expect("to"))
        .subject(subject)
        .message_id(Some(format!("<{}@mail.example>", unique("erase-msg-"))));
    if let Some(parent) = in_reply_to {
        b = b.in_reply_to(parent.to_string()).references(parent.to_string());
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::EightBit)
        .body(text.replace('\n', "\r\n"));
    let m = if screenshot {
        let img = Attachment::new("Skjermbilde.png".into())
            .body(png(1280, 800), ContentType::parse("image/png").expect("content type"));
        b.multipart(MultiPart::mixed().singlepart(text).singlepart(img))
    } else {
        b.singlepart(text)
    };
    m.expect("mail builds").formatted()
}

async fn tickets(store: &Store) -> i64 {
    store.count(Counted::Tickets).await.expect("count")
}

/// What the statistics show: the counts of tickets, mail in and mail out, and the log's facets.
async fn statistics(store: &Store) -> String {
    let facets = store.facets(&TicketFilter::default()).await.expect("facets");
    let counts = [Counted::Tickets, Counted::Inbound, Counted::Outbox];
    let mut n = Vec::new();
    for c in counts {
        n.push(store.count(c).await.expect("count"));
    }
    format!("{n:?} {facets:?}")
}

async fn an_erased_person_leaves_no_trace_in_the_database_or_the_mailbox(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;
    let person = format!("{}@gjovik.kommune.no", unique("oddveig.tverrbakk-"));
    let from = format!("Oddveig Tverrbakk <{person}>");
    let marker = unique("zqmerke");
    let phone = "917 23 456";
    let signature = format!(
        "\n\nMvh\nOddveig Tverrbakk\nLønningskontoret, Gjøvik kommune\nDir. tlf. 61 17 44 02 – Mobil {phone}\n"
    );
    let fault = "Lønnskjøringen for november gir feil beløp på lønnsart 1120,\nden beregnes ikke.";
    let wait_for = |n: i64| {
        let store = store.clone();
        async move {
            eventually("the report to become a ticket", WAIT, || async { (tickets(&store).await == n).then_some(()) })
                .await
        }
    };

    // Two reports: the first without its screenshot (held; the person is asked for it).
    let first = format!("Feil ved lønnskjøring {marker}: lønnsart 1120 beregnes ikke");
    send(&mail(&from, &hd.address, &first, &format!("Hei,\n\n{fault}{signature}"), false, None), &person, &hd.address)
        .await;
    wait_for(1).await;
    let second = "Feil ved lønnskjøring igjen: lønnsart 1120 beregnes ikke";
    send(
        &mail(&from, &hd.address, second, &format!("Hei igjen,\n\n{fault}{signature}"), true, None),
        &person,
        &hd.address,
    )
    .await;
    wait_for(2).await;
    // Others: the same fault in Østre Toten (a suspected incident: the helpdesk gets a mail listing
    // the reports' subjects), and a printer in Vestre Toten.
    let other = "Arne Raddum <arne.raddum@ostre-toten.kommune.no>";
    let other_text = format!("Hei,\n\n{fault}\n\nMvh\nArne Raddum\nDir. tlf. 61 14 52 00 – Mobil 905 11 223\n");
    send(
        &mail(other, &hd.address, "Lønnskjøring feiler: lønnsart 1120 beregnes ikke", &other_text, true, None),
        "arne.raddum@ostre-toten.kommune.no",
        &hd.address,
    )
    .await;
    wait_for(3).await;
    // The printer report names the person (a colleague with the same trouble).
    let printer = format!(
        "Skriveren i 2. etasje skriver ikke ut.\nKollegaen min\n{person}\nhar samme feil.\n\n\
         Mvh\nBente Lie\nDir. tlf. 61 15 10 00 – Mobil 934 56 789\n"
    );
    send(
        &mail(
            "Bente Lie <bente.lie@vestre-toten.kommune.no>",
            &hd.address,
            "Skriver virker ikke",
            &printer,
            true,
            None,
        ),
        "bente.lie@vestre-toten.kommune.no",
        &hd.address,
    )
    .await;
    wait_for(4).await;

    // The person answers the request for details with the screenshot, their phone and the word.
    let held =
        store.tickets(10).await.expect("tickets").into_iter().find(|t| t.subject == first).expect("the first report");
    assert_eq!(held.status, TicketStatus::AwaitingInfo, "{held:?}");
    let request = store
        .outbox_of(held.id)
        .await
        .expect("outbox")
        .into_iter()
        .find(|o| o.kind == OutboxKind::RequestInfo)
        .expect("asked");
    let answer = format!("Her er skjermbildet. Ring meg på {phone}.\nStikkord: {marker}.{signature}");
    let parent = format!("<{}>", request.message_id);
    send(
        &mail(&from, &hd.address, &format!("SV: {}", request.subject), &answer, true, Some(&parent)),
        &person,
        &hd.address,
    )
    .await;
    eventually("the answer to complete the report", WAIT, || async {
        let t = store.ticket_by_number(&held.number).await.expect("q").expect("ticket");
        (t.status != TicketStatus::AwaitingInfo).then_some(())
    })
    .await;
    // Their out-of-office reply to something: set aside, never a ticket.
    let away = format!(
        "From: {from}\r\nTo: {}\r\nSubject: Automatisk svar: Lønn\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <{}@mail.example>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Jeg er borte til mandag. Ring {phone} om det haster.\r\n",
        hd.address,
        unique("away-")
    );
    send(away.as_bytes(), &person, &hd.address).await;
    eventually("the out-of-office reply to be set aside", WAIT, || async {
        (store.count(Counted::Inbound).await.expect("count") == 6).then_some(())
    })
    .await;
    eventually("every mail to be sent", WAIT, || async {
        (store.outbox_pending().await.expect("queue") == 0).then_some(())
    })
    .await;
    svc.stop(WAIT).await.expect("stops");
    assert_eq!(tickets(&store).await, 4, "the answer joined the report");
    let incident = store.incident_of_ticket(held.id).await.expect("q").expect("the reports are one group");
    assert_eq!((incident.state.as_str(), incident.title.as_str()), ("suspected", first.as_str()));

    // Staff corrected one of their reports: the correction keeps the report's words as features.
    let desk = crate::support::desk_on(&hd.config.database_url).await;
    desk.reclassify(&held.number, routedesk::domain::Class::Operations, "kari (helpdesk)").await.expect("reclassify");
    assert_eq!(desk.corrections_in_use().await.expect("corrections").len(), 1, "a training example is kept");

    let url = hd.config.database_url.clone();
    let needles = [person.as_str(), "Tverrbakk", phone, "91723456", marker.as_str()];
    let in_mailbox = |mails: &[(String, Vec<u8>)]| {
        let all: Vec<u8> = mails.iter().flat_map(|(_, raw)| raw.iter().copied()).collect();
        found(&all, &needles)
    };
    let before = database_bytes(&url);
    for n in [person.as_str(), "Tverrbakk", phone, marker.as_str()] {
        assert!(holds(&before, n), "the scan sees {n} before the erasure");
    }
    let mailbox = every_mail(&hd.address).await;
    assert_eq!(mailbox.len(), 6, "every mail is in the processed folder");
    assert_eq!(in_mailbox(&mailbox), [person.as_str(), "Tverrbakk", phone, marker.as_str()], "and in the mailbox");
    let before = statistics(&store).await;

    // The command line takes the request (a dry run changes nothing).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_routedesk"))
        .args(["erase", "--person", &person.to_uppercase(), "--dry-run", "--config"])
        .arg(hd.config_file())
        .output()
        .expect("runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains(&format!("would remove the data of {person}: 2 tickets reported")), "{said}");
    assert!(said.contains("5 copies in the helpdesk mailbox"), "{said}");
    assert_eq!(every_mail(&hd.address).await.len(), 6, "a dry run removes nothing");
    let person_fp = format!("person {}", routedesk::web::limiter::fingerprint(&person));
    let audit = store.audit_recent(100).await.expect("audit log");
    assert!(
        audit.iter().any(|r| r.action == "erase" && r.object == person_fp && r.result == "dry run: 2 tickets"),
        "the request is in the audit log: {audit:?}"
    );

    let done = routedesk::retention::erase(&hd.config, &store, &person, "routedesk erase (test)", false)
        .await
        .expect("erasure");
    // Their four mails, and the printer report that names them.
    assert_eq!((done.store.tickets.len(), done.mailbox), (2, 5), "{done:?}");

    let left = found(&database_bytes(&url), &needles);
    assert!(left.is_empty(), "{left:?} still in the database after the erasure");
    assert!(desk.corrections_in_use().await.expect("corrections").is_empty(), "their correction is forgotten");
    let mailbox = every_mail(&hd.address).await;
    assert!(in_mailbox(&mailbox).is_empty(), "{:?} still in the helpdesk mailbox", in_mailbox(&mailbox));
    assert_eq!(mailbox.len(), 1, "the other report stays");
    assert!(found(&database_bytes(&url), &["arne.raddum", "bente.lie"]).len() == 2, "the others' data stays");
    assert_eq!(statistics(&store).await, before, "the statistics are unchanged");

    for n in &done.store.tickets {
        let t = store.ticket_by_number(n).await.expect("q").expect("ticket");
        let last = store.events_of(t.id).await.expect("events").pop().expect("an event");
        assert_eq!((last.kind.as_str(), last.actor.as_str()), ("erased", "routedesk erase (test)"));
    }
    let run = store.purge_runs(1).await.expect("runs").pop().expect("the run is recorded");
    assert_eq!((run.actor.as_str(), run.tickets), ("routedesk erase (test)", 2));

    // Nothing is left to find: a second erasure removes nothing.
    let again = routedesk::retention::erase(&hd.config, &store, &person, "test", true).await.expect("dry run");
    assert_eq!((again.store.tickets.len(), again.store.messages, again.mailbox), (0, 0, 0), "{again:?}");
}
