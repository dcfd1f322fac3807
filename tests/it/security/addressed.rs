//! An automatic reply only to mail written to the helpdesk: the mailbox or one of its aliases
//! (`addressed_as`) in To or Cc, in any letter case. A report that reached the mailbox by Bcc,
//! through a list or a forward, or with no recipients shown is still a ticket and routed — never
//! held for details nobody will ask for — and its record says why it was not answered.

use routedesk::desk::Outcome;
use routedesk::domain::TicketStatus;

use crate::service::on_both_databases;
use crate::support::{Db, desk_on_new};

on_both_databases!(only_a_report_naming_the_helpdesk_in_to_or_cc_is_answered);

async fn only_a_report_naming_the_helpdesk_in_to_or_cc_is_answered(db: Db) {
    let (d, _database) = desk_on_new(db).await;
    let store = d.store().clone();
    // The desk's mailbox is helpdesk@routedesk.test, with the alias pureservice@gjovik.kommune.no.
    // Each with its recipient lines.
    let cases: [(&str, &str, bool); 8] = [
        ("the mailbox in To", "To: helpdesk@routedesk.test\r\n", true),
        (
            "the mailbox in Cc",
            "To: lonnskontoret@gjovik.kommune.no\r\nCc: Helpdesk <helpdesk@routedesk.test>\r\n",
            true,
        ),
        ("the alias in To", "To: pureservice <pureservice@gjovik.kommune.no>\r\n", true),
        ("the mailbox in other letters", "To: Helpdesk <HelpDesk@RoutEdesk.TEST>, lonn@gjovik.kommune.no\r\n", true),
        ("by Bcc", "To: lonnskontoret@gjovik.kommune.no\r\n", false),
        ("through a list", "To: alle-lonn@lister.gjovik.kommune.no\r\nCc: lonnskontoret@gjovik.kommune.no\r\n", false),
        ("undisclosed recipients", "To: undisclosed-recipients:;\r\n", false),
        ("no recipients at all", "", false),
    ];
    for (n, (case, recipients, answered)) in cases.into_iter().enumerate() {
        // A sender of its own each, so the per-sender limit cannot tell the cases apart; no
        // screenshot, so the report is incomplete and would be held for the reporter's answer.
        let raw = format!(
            "From: Ola Hansen <ola.hansen.{n}@vestre-toten.kommune.no>\r\n{recipients}Subject: Fakturaen kommer ikke til attestering\r\n\
             Message-ID: <addressed-{n}@vestre-toten.kommune.no>\r\n\r\nFakturaen kommer ikke fram.\r\n\
             Mvh Ola\r\nDir. tlf. 61 12 64 26 - Mobil: 951 17 655\r\n"
        );
        let Outcome::Ticket { number, status } = d.ingest(raw.as_bytes(), None).await.expect("recorded") else {
            panic!("{case}: a ticket")
        };
        let t = store.ticket_by_number(&number).await.expect("q").expect("the ticket");
        let kinds: Vec<String> =
            store.outbox_of(t.id).await.expect("outbox").iter().map(|o| o.kind.to_string()).collect();
        let events = store.events_of(t.id).await.expect("events");
        let withheld = events.iter().find(|e| e.kind == "reply-withheld");
        if answered {
            assert_eq!(status, TicketStatus::AwaitingInfo, "{case}: held for the reporter's answer");
            assert_eq!(kinds, ["request-info"], "{case}");
            assert!(withheld.is_none(), "{case}: {events:?}");
        } else {
            assert_eq!(status, TicketStatus::Routed, "{case}: routed at once, nobody is asked");
            assert_eq!(kinds, ["routing"], "{case}: routed, no automatic reply");
            let why = withheld.unwrap_or_else(|| panic!("{case}: the reason is on record: {events:?}"));
            let why = routedesk::domain::event::detail_text(&why.detail, routedesk::text::lang::Lang::En);
            assert!(why.contains("helpdesk@routedesk.test) is not in To or Cc"), "{case}: {why}");
            let reasons = routedesk::pipeline::reason::stored_texts(&t.reasons, routedesk::text::lang::Lang::Nb);
            assert!(reasons.iter().any(|r| r.contains("ingen kan spørres")), "{case}: {reasons:?}");
        }
    }
}
