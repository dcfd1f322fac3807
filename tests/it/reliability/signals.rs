//! Test plan 16 through a real desk: each case of the classification table
//! (tests/fixtures/robot-signals.toml) is taken in as a mail from its own sender, addressed to the
//! helpdesk. Robots' mail is set aside with its reason; a person's mail that asked for no answer,
//! or that nobody can answer, is a ticket without an automatic reply, and says why; only the
//! genuine `Auto-Submitted: no` and absent cases get an acknowledgement or a request for details.

use routedesk::desk::Outcome;
use routedesk::domain::OutboxKind;
use routedesk::store::Store;
use routedesk::text::lang::Lang;
use toml::Value;

use crate::service::on_both_databases;
use crate::support::{Db, desk_on_new, unique};

on_both_databases!(each_robot_signal_through_a_desk_gets_no_automatic_reply);

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Our own Message-ID with the last digit of its HMAC changed.
fn spoiled(id: &str) -> String {
    let at = id.find('@').unwrap_or(id.len());
    let last = if id[..at].ends_with('0') { '1' } else { '0' };
    format!("{}{last}{}", &id[..at - 1], &id[at..])
}

/// The automatic replies queued anywhere.
async fn replies(store: &Store) -> Vec<routedesk::store::OutboxRow> {
    let mut all = store.outbox_of_kind(OutboxKind::Acknowledgement).await.expect("outbox");
    all.extend(store.outbox_of_kind(OutboxKind::RequestInfo).await.expect("outbox"));
    all
}

async fn each_robot_signal_through_a_desk_gets_no_automatic_reply(db: Db) {
    let (d, _database) = desk_on_new(db).await;
    let store = d.store().clone();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/robot-signals.toml");
    let table: Value = toml::from_str(&std::fs::read_to_string(path).expect("the table")).expect("it parses");
    let cases = table.get("signal").and_then(Value::as_array).expect("cases");
    let mut answered = Vec::new();
    for (n, s) in cases.iter().enumerate() {
        let case = text(s, "case").expect("a case's name");
        let own = d.ids().new_id();
        let message_id = match text(s, "own_id") {
            Some("signed") => own,
            Some("forged") => spoiled(&own),
            _ => format!("{}@sondre-land.kommune.no", unique("signal-")),
        };
        let headers: String = s
            .get("headers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|h| format!("{h}\n"))
            .collect();
        let from = text(s, "from").or(text(&table, "from")).expect("a sender");
        let content = text(s, "content").or(text(&table, "content")).expect("content");
        let raw = text(&table, "report")
            .expect("the report")
            .replace("{headers}", &headers)
            .replace("{from}", &from.replace("{sender}", &format!("kari.rohne.{n}@sondre-land.kommune.no")))
            .replace("{message_id}", &message_id)
            .replace("{content}", content)
            .replace('\n', "\r\n");
        let before = replies(&store).await.len();
        let outcome = d.ingest(raw.as_bytes(), None).await.expect("recorded");
        let reply = s.get("reply").and_then(Value::as_bool).unwrap_or(false);
        match (text(s, "ignored"), &outcome) {
            (Some(kind), Outcome::Ignored { reason }) => assert!(reason.contains(kind), "{case}: {reason}"),
            (None, Outcome::Ticket { number, .. }) => {
                let t = store.ticket_by_number(number).await.expect("q").expect("the ticket");
                let sent = store.outbox_of(t.id).await.expect("outbox");
                let kinds: Vec<OutboxKind> = sent.iter().map(|o| o.kind).filter(|k| k.is_auto_reply()).collect();
                assert_eq!(kinds.len(), usize::from(reply), "{case}: automatic replies {kinds:?}");
                if reply {
                    answered.push(case);
                }
                let reasons = routedesk::pipeline::reason::stored_texts(&t.reasons, Lang::En).join("\n");
                if let Some(why) = text(s, "why") {
                    assert!(reasons.contains(why), "{case}: {why:?} in {reasons}");
                }
                // A reply held back for the mail's own sake is on the ticket's record, with why.
                let events = store.events_of(t.id).await.expect("events");
                let withheld = events.iter().find(|e| e.kind == "reply-withheld");
                assert_eq!(withheld.is_some(), reasons.contains("No automatic reply:"), "{case}: {events:?}");
                assert!(!events.iter().any(|e| e.kind == "reply-suppressed"), "{case}: no loop limit reached");
            }
            (want, got) => panic!("{case}: expected {}, got {got:?}", want.unwrap_or("a ticket")),
        }
        if !reply {
            assert_eq!(replies(&store).await.len(), before, "{case}: no automatic reply queued anywhere");
        }
    }
    let people = ["no robot header at all", "Auto-Submitted: no", "X-Auto-Response-Suppress: None (asks for nothing)"];
    for p in people {
        assert!(answered.contains(&p), "{p} is answered: {answered:?}");
    }
    assert_eq!(replies(&store).await.len(), answered.len(), "one automatic reply per answered case, no other");
}
