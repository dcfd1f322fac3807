//! Data retention and access requests: resolved tickets past the policy's period, and tickets never
//! resolved past theirs, lose their personal data (and only they) — with every copy of it elsewhere —
//! the run is recorded, nothing is doubled afterwards; one person's data can be exported.

mod erasure;
mod files;

use routedesk::desk::Outcome;
use routedesk::policy::Retention;
use routedesk::retention::{export, purge};
use routedesk::store::{Pool, REMOVED, Store, TicketFilter};
use time::{Duration, OffsetDateTime};

use crate::service::on_both_databases;
use crate::support::Db;
use crate::web::App;
use routedesk::domain::{OutboxKind, OutboxStatus};

on_both_databases!(
    old_resolved_tickets_lose_their_personal_data,
    a_purged_report_leaves_no_copy_elsewhere,
    a_person_gets_their_data
);

const POLICY: Retention = Retention {
    resolved_days: Some(730),
    set_aside_days: Some(90),
    max_open_days: Some(1095),
    audit_log_days: Some(1825),
};

/// Runs one statement on the store's own pool (to put rows in states the test needs).
pub async fn sql(store: &Store, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(drop),
        Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(drop),
    }
    .expect("statement runs");
}

/// The log's counts: what the statistics show.
async fn statistics(store: &Store) -> String {
    format!("{:?}", store.facets(&TicketFilter::default()).await.expect("counts"))
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name))
        .expect("fixture")
}

async fn found(app: &App, words: &str) -> Vec<String> {
    let f = TicketFilter { search: Some(words.into()), ..Default::default() };
    app.state.desk.store().ticket_page(&f, None, 50).await.expect("search").into_iter().map(|t| t.number).collect()
}

async fn old_resolved_tickets_lose_their_personal_data(db: Db) {
    let app = App::new(db).await;
    let n = app
        .ingest(&[
            "01-gjovik-lonn-complete.eml",
            "02-ostre-toten-faktura-complete.eml",
            "60-autosvar-auto-submitted.eml",
        ])
        .await;
    let store = app.state.desk.store();
    let s = app.sign_in("kari").await;
    app.post(&format!("/tickets/{}/status", n[0]), Some(&s), &[("csrf", &s.csrf), ("status", "resolved")]).await;
    let before = store.ticket_by_number(&n[0]).await.expect("q").expect("ticket");
    let reporter = before.reporter.clone().expect("a reporter");
    assert!(!store.attachments_of(before.id).await.expect("files").is_empty(), "the report has its screenshot");
    assert_eq!(found(&app, &reporter).await, [n[0].clone()]);
    // Its routing mail could not be delivered, and the refusal quotes the reporter; the rest of its
    // mail still waits in the queue.
    sql(
        store,
        &format!(
            "UPDATE outbox SET status = 'failed', last_error = '550 5.1.1 <{reporter}>: unknown user' \
             WHERE ticket_id = {} AND kind = 'routing'",
            before.id
        ),
    )
    .await;
    let queued = store.outbox_of(before.id).await.expect("outbox");
    assert!(queued.iter().any(|o| o.status == OutboxStatus::Queued), "{queued:?}");
    let statistics_before = statistics(store).await;

    // A group of reports not confirmed by staff carries the report's subject as its title.
    let (incident, inc) = {
        let mut tx = store.begin().await.expect("tx");
        let made = tx.create_incident(&before.subject, OffsetDateTime::now_utc()).await.expect("incident");
        tx.set_ticket_incident(before.id, Some(made.0)).await.expect("link");
        tx.commit().await.expect("commit");
        made
    };

    // Within the period nothing goes; a dry run past it only lists.
    let now = OffsetDateTime::now_utc();
    assert_eq!(purge(store, POLICY, now, "test", false).await.expect("purge").tickets, Vec::<String>::new());
    let later = now + Duration::days(731);
    let dry = purge(store, POLICY, later, "test", true).await.expect("dry run");
    assert_eq!((dry.tickets, dry.set_aside), (vec![n[0].clone()], 1), "the resolved ticket and the auto-reply");
    assert_eq!(store.ticket_by_number(&n[0]).await.expect("q").expect("t").reporter.as_deref(), Some(&reporter[..]));

    let done = purge(store, POLICY, later, "retention policy", false).await.expect("purge");
    assert_eq!((done.tickets, done.set_aside), (vec![n[0].clone()], 1));
    let after = store.ticket_by_number(&n[0]).await.expect("q").expect("ticket");
    assert_eq!((after.reporter, after.reporter_name, after.subject.as_str()), (None, None, REMOVED));
    assert_eq!(
        (after.class, after.municipality, after.status, after.created_at),
        (before.class, before.municipality, before.status, before.created_at),
        "what the statistics need stays"
    );
    assert!(store.attachments_of(after.id).await.expect("files").is_empty(), "attachments are deleted");
    for m in store.messages_of(after.id).await.expect("mail") {
        assert_eq!((m.size, m.from_addr, m.subject.as_str()), (0, None, ""), "mail is emptied");
    }
    let events = store.events_of(after.id).await.expect("events");
    let last = events.last().expect("an event");
    assert_eq!((last.kind.as_str(), last.actor.as_str()), ("purged", "retention policy"));
    assert!(crate::support::detail_text(last).contains("730 days"), "{}", last.detail);
    assert!(events[..events.len() - 1].iter().all(|e| e.detail.is_empty()), "notes and details are emptied");
    assert!(found(&app, &reporter).await.is_empty(), "the search no longer knows the reporter");
    let group = store.incident_by_number(&inc).await.expect("q").expect("incident");
    assert_eq!((group.id, group.title.as_str()), (incident, REMOVED), "the group's title was the report's subject");
    for m in store.untracked_messages(10).await.expect("set aside") {
        assert_eq!((m.size, m.from_addr), (0, None), "set-aside mail is emptied");
    }
    for o in store.outbox_of(after.id).await.expect("outbox") {
        assert_eq!(
            (o.subject.as_str(), o.body.as_str(), o.last_error.as_deref()),
            ("", "", None),
            "{} is emptied",
            o.kind
        );
        assert!(
            o.status == OutboxStatus::Failed || o.status == OutboxStatus::Withdrawn,
            "queued mail is withdrawn, not sent empty: {}",
            o.status
        );
        assert!(!o.recipients().any(|a| *a == reporter.as_str()), "the reporter's address goes from {}", o.kind);
    }
    assert_eq!(statistics(store).await, statistics_before, "the statistics are unchanged");

    // The open ticket is untouched; a second run finds nothing; the runs are on record.
    let open = store.ticket_by_number(&n[1]).await.expect("q").expect("ticket");
    assert!(open.reporter.is_some() && open.subject != REMOVED);
    assert!(!store.attachments_of(open.id).await.expect("files").is_empty());
    let again = purge(store, POLICY, later, "retention policy", false).await.expect("purge");
    assert_eq!((again.tickets.len(), again.set_aside), (0, 0));

    // A ticket never resolved goes after `max_open_days` from its last change, and only then.
    assert!(again.open.is_empty(), "{:?}", again.open);
    let much_later = now + Duration::days(1096);
    let done = purge(store, POLICY, much_later, "retention policy", false).await.expect("purge");
    assert_eq!((done.tickets.len(), done.open.clone()), (0, vec![n[1].clone()]));
    let gone = store.ticket_by_number(&n[1]).await.expect("q").expect("ticket");
    assert_eq!((gone.reporter, gone.subject.as_str()), (None, REMOVED));
    assert_eq!((gone.status, gone.class), (open.status, open.class), "what the statistics need stays");
    assert!(store.attachments_of(gone.id).await.expect("files").is_empty());
    let last = store.events_of(gone.id).await.expect("events").pop().expect("an event");
    assert!(last.kind == "purged" && crate::support::detail_text(&last).contains("never resolved"), "{last:?}");
    assert_eq!(statistics(store).await, statistics_before, "the statistics are unchanged");
    let kept = Retention { max_open_days: None, ..POLICY };
    assert!(purge(store, kept, much_later, "test", true).await.expect("dry run").open.is_empty());

    let runs = store.purge_runs(10).await.expect("runs");
    assert_eq!(runs.iter().map(|r| (r.tickets, r.messages)).collect::<Vec<_>>(), [(1, 0), (0, 0), (1, 1), (0, 0)]);
    assert_eq!(runs[2].actor, "retention policy");

    // The same mail fetched again (a re-scan) is still known: no new ticket.
    let again = app.state.desk.ingest(&fixture("01-gjovik-lonn-complete.eml"), None).await.expect("ingest");
    assert_eq!(again, Outcome::Duplicate);
}

/// A report's subject is copied into the group of the same fault it started, and into the mail that
/// told the helpdesk of a suspected incident (on another report's ticket); a stranger who named a
/// ticket left their address in its audit trail. Purging their tickets removes the copies too.
async fn a_purged_report_leaves_no_copy_elsewhere(db: Db) {
    let app = App::new(db).await;
    let store = app.state.desk.store();
    let [a, b, c, _, _] = crate::incidents::one_fault_in_four_municipalities(&app).await;
    let first = store.ticket_by_number(&a).await.expect("q").expect("ticket");
    let inc = store.incident_of_ticket(first.id).await.expect("q").expect("grouped");
    assert_eq!((inc.title.as_str(), inc.state.as_str()), (first.subject.as_str(), "suspected"));
    let third = store.ticket_by_number(&c).await.expect("q").expect("ticket");
    let incident_mail = || async {
        let all = store.outbox_of(third.id).await.expect("outbox");
        all.into_iter().find(|o| o.kind == OutboxKind::Incident).expect("the mail about the incident")
    };
    let mail = incident_mail().await;
    assert!(mail.body.contains(&first.subject) && mail.subject.contains(&first.subject), "{mail:?}");

    let stranger = "Ukjent <stranger@evil.example>";
    let raw = format!(
        "From: {stranger}\r\nTo: helpdesk@routedesk.test\r\nSubject: SV: [{b}] Innlogging\r\n\r\nSamme feil her.\r\n"
    );
    let Outcome::Ticket { number: mentions, .. } = app.state.desk.ingest(raw.as_bytes(), None).await.expect("ingest")
    else {
        panic!("a stranger's mail naming a ticket is a ticket of its own")
    };
    let second = store.ticket_by_number(&b).await.expect("q").expect("ticket");
    let noted = |events: Vec<routedesk::store::EventRow>| {
        events.into_iter().find(|e| e.kind == "mentioned").map(|e| crate::support::detail_text(&e)).unwrap_or_default()
    };
    assert!(noted(store.events_of(second.id).await.expect("events")).contains("stranger@evil.example"));

    for n in [&a, &mentions] {
        app.state.desk.set_status(n, "resolved", "test").await.expect("resolve");
    }
    let statistics_before = statistics(store).await;
    let later = OffsetDateTime::now_utc() + Duration::days(731);
    let done = purge(store, POLICY, later, "retention policy", false).await.expect("purge");
    assert!(done.tickets.contains(&a) && done.tickets.contains(&mentions), "{done:?}");

    let mail = incident_mail().await;
    assert_eq!((mail.subject.as_str(), mail.body.as_str()), ("", ""), "the incident mail listed the purged report");
    let inc = store.incident_by_number(&inc.number).await.expect("q").expect("incident");
    assert_eq!((inc.title.as_str(), inc.reports), (REMOVED, 4), "the group keeps its reports, not the title");
    assert_eq!(noted(store.events_of(second.id).await.expect("events")), format!("{mentions} mentions this ticket"));
    assert_eq!(statistics(store).await, statistics_before, "the statistics are unchanged");
    let open = store.ticket_by_number(&b).await.expect("q").expect("ticket");
    assert_eq!(open.subject, second.subject, "the open report is untouched");
}

async fn a_person_gets_their_data(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "02-ostre-toten-faktura-complete.eml"]).await;
    let store = app.state.desk.store();
    let first = store.ticket_by_number(&n[0]).await.expect("q").expect("ticket");
    let person = first.reporter.expect("reporter").to_uppercase();

    let data = export(store, &person).await.expect("export");
    let tickets = data["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1, "only this person's tickets: {data}");
    assert_eq!(tickets[0]["number"], n[0].as_str());
    let received =
        tickets[0]["events"].as_array().and_then(|e| e.iter().find(|e| e["kind"] == "received")).expect("received");
    // Words a person reads, not the entry's stored form.
    let said = received["detail"].as_str().unwrap_or_default();
    assert!(said.starts_with("Melding fra ") && !said.contains('{'), "{said}");
    let mails = data["messages"].as_array().expect("mail");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["subject"], first.subject.as_str());
    assert!(
        mails[0]["mail"].as_str().is_some_and(|m| m.contains("From:") && m.len() > 1000),
        "the whole mail is included"
    );
    assert_eq!(data["person"], person.to_lowercase());
    let nobody = export(store, "nobody@example.org").await.expect("export");
    assert_eq!(
        (nobody["tickets"].as_array().map(Vec::len), nobody["messages"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
}
