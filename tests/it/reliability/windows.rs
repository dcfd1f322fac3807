//! SIGKILL at each named crash point (`src/faults.rs`, built in with the `fault-injection`
//! feature), on both databases: after the restart every report is one ticket, every routing mail
//! reached its recipient once — or, when the kill came between the server's 250 and our record,
//! twice with the same Message-ID and marked for staff as possibly sent twice — and nothing is
//! left half done.

use std::time::Duration;

use routedesk::domain::{OutboxKind, OutboxStatus};
use routedesk::faults::Point;
use routedesk::store::Counted;

use super::crash::{CONTACT, Delivered, assert_exactly_once, reports};
use crate::service::on_both_databases;
use crate::support::mail::{Report, append, folder, png, seen};
use crate::support::process::{Serve, free_port, http_get, settled_after_kill};
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, unique};

const REPORTS: usize = 12;

on_both_databases!(
    killed_after_the_fetch_before_the_commit,
    killed_after_the_commit_before_the_move,
    killed_after_the_claim_before_the_send,
    killed_after_the_claim_with_the_batch_not_yet_moved,
    killed_after_the_servers_250_before_the_record
);

on_both_databases!(
    killed_after_fetching_a_1_mb_report_before_the_commit,
    killed_after_fetching_a_20_mb_report_before_the_commit
);

async fn killed_after_the_fetch_before_the_commit(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    let resent = crash_at(db, Point::FetchedNotCommitted, 0).await;
    assert!(resent.is_empty(), "nothing was sent before the kill: {resent:?}");
}

/// Test plan 1's size classes: the first mail fetched carries a screenshot of this size.
async fn killed_after_fetching_a_1_mb_report_before_the_commit(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    crash_at(db, Point::FetchedNotCommitted, 1_000_000).await;
}

async fn killed_after_fetching_a_20_mb_report_before_the_commit(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    // 17 MB of picture is 23 MB as base64: under the 25 MB limit, so it is fetched, not set aside.
    crash_at(db, Point::FetchedNotCommitted, 17_000_000).await;
}

async fn killed_after_the_commit_before_the_move(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    // The outbox may have sent some of the committed mail before the kill: only as marked re-sends.
    crash_at(db, Point::CommittedNotMoved, 0).await;
}

async fn killed_after_the_claim_before_the_send(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    let resent = crash_at(db, Point::ClaimedNotSent, 0).await;
    assert!(resent.is_empty(), "nothing was sent before the kill: {resent:?}");
}

/// The outbox claims a batch's mail as soon as it is committed: killed there while the intake
/// has not yet moved the batch, the mail recorded is found again by the next instance, and known.
async fn killed_after_the_claim_with_the_batch_not_yet_moved(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    let resent = crash_with(db, Point::ClaimedNotSent, 0, Some(Point::CommittedNotMoved)).await;
    assert!(resent.is_empty(), "nothing was sent before the kill: {resent:?}");
}

async fn killed_after_the_servers_250_before_the_record(db: Db) {
    crate::support::level::needs!(Rig, Faults);
    let resent = crash_at(db, Point::AcceptedNotRecorded, 0).await;
    assert!(!resent.is_empty(), "the mail accepted before the kill is sent again, with the same Message-ID");
}

/// Puts [`REPORTS`] reports in the helpdesk folder — the first with a screenshot of `first_bytes`
/// when not 0 — runs routedesk until it kills itself at `point`, runs it again to the end, and
/// checks exactly-once; the Message-IDs delivered twice.
async fn crash_at(db: Db, point: Point, first_bytes: usize) -> Vec<String> {
    crash_with(db, point, first_bytes, None).await
}

/// [`crash_at`], the intake held at `paused` for a while (its first time there) meanwhile.
async fn crash_with(db: Db, point: Point, first_bytes: usize, paused: Option<Point>) -> Vec<String> {
    let _rig = RIG_LOCK.read().await;
    let mut hd = Helpdesk::new(db).await;
    let port = free_port();
    hd.toml = hd.toml.replace("bind = \"127.0.0.1:0\"", &format!("bind = \"127.0.0.1:{port}\""));
    let config = hd.config_file();
    let token = unique("W");
    let mut mail = reports(&token, &hd.address, REPORTS);
    if first_bytes > 0 {
        let mut big = Report::complete(&format!("{token}-{:03}", 0), &hd.address);
        big.from = Box::leak(mail[0].0.clone().into_boxed_str());
        big.message_id = format!("{token}-0@vestre-toten.kommune.no");
        let mut shot = png(1280, 800);
        shot.resize(first_bytes, 0x5a);
        big.screenshot_png = Some(shot);
        mail[0].1 = big.to_bytes();
    }
    for (_, raw) in &mail {
        append(&hd.address, "INBOX", raw).await;
    }
    let mark = config.with_file_name(format!("{}.crashed", unique("mark")));
    let mark_text = mark.to_string_lossy().into_owned();
    let pause_mark = config.with_file_name(format!("{}.paused", unique("mark")));
    let pause_text = pause_mark.to_string_lossy().into_owned();
    let mut env = vec![("RD_CRASH_AT", point.as_str()), ("RD_CRASH_MARK", &mark_text)];
    if let Some(at) = paused {
        env.extend([("RD_PAUSE_AT", at.as_str()), ("RD_PAUSE_MARK", &pause_text), ("RD_PAUSE_MS", "5000")]);
    }
    let mut first = Serve::start_with(&config, "first", &env);
    let status = first.ended(Duration::from_secs(60)).await;
    let log = first.log_text();
    let status = status.unwrap_or_else(|| panic!("routedesk never reached {point:?}:\n{log}"));
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL at {point:?}: {status:?}\n{log}");
    assert_eq!(std::fs::read_to_string(&mark).expect("the crash point left its mark"), point.as_str());
    // The mailbox is touched only after the commit: killed before the move, every mail is still
    // in the helpdesk folder and unread (fetched with PEEK), whatever was recorded.
    let store = hd.store().await;
    settled_after_kill(&store, first.pid()).await;
    let recorded = store.count(Counted::Tickets).await.expect("count");
    let moved = REPORTS - folder(&hd.address, "INBOX").await.len();
    if matches!(point, Point::FetchedNotCommitted | Point::CommittedNotMoved) {
        assert_eq!(moved, 0, "nothing moved before the kill ({point:?})");
        assert_eq!(seen(&hd.address, "INBOX").await, 0, "nothing marked read ({point:?})");
    }
    // Killed in the outbox, the intake may have committed a batch and not yet moved it: the
    // outbox claims the batch's mail as soon as it is committed.
    let recorded_not_moved = usize::try_from(recorded).expect("a count") - moved;
    if paused == Some(Point::CommittedNotMoved) {
        assert!(pause_mark.exists(), "the intake was held after its commit");
        assert!(
            recorded_not_moved > 0,
            "a batch recorded and not moved at the kill: {recorded} recorded, {moved} moved"
        );
    }
    match point {
        Point::FetchedNotCommitted => assert_eq!(recorded, 0, "nothing recorded before the commit"),
        Point::CommittedNotMoved => assert!(recorded > 0, "the batch was committed before the kill"),
        _ => {}
    }

    let second = Serve::start(&config, "second");
    // Killed after a 250, the mail the server took is sent again: wait for that copy as well.
    let known_resent = usize::from(point == Point::AcceptedNotRecorded);
    let Delivered { resent, .. } = assert_exactly_once(&hd, &token, REPORTS, 1, known_resent).await;
    // Test plan 2: what was recorded before the kill is found again, known, and counted.
    let metrics = http_get(port, "/metrics").await;
    let known = second.log_text().matches("already recorded").count();
    assert_eq!(
        known, recorded_not_moved,
        "each mail recorded and not moved before the kill found again once, no other"
    );
    if known > 0 {
        let line = format!("routedesk_mail_ingested_total{{verdict=\"duplicate\"}} {known}");
        assert!(metrics.lines().any(|l| l == line), "the ledger conflicts are counted: {line}\n{metrics}");
    }
    second.terminate();

    let routing = store.outbox_of_kind(OutboxKind::Routing).await.expect("the routing mail");
    assert_eq!(routing.len(), REPORTS, "one routing mail per report, never queued twice");
    assert!(routing.iter().all(|r| r.status == OutboxStatus::Sent), "every routing mail recorded sent");
    for id in &resent {
        let row = routing.iter().find(|r| &r.message_id == id).expect("a re-sent mail is one of ours");
        assert!(row.maybe_sent, "{id} reached {CONTACT} twice and is marked so for staff");
    }
    // Nothing half done: no mail left pending, none left claimed.
    for (what, sql) in [
        ("pending mail", "SELECT COUNT(*) FROM messages WHERE verdict = 'pending'"),
        ("claimed mail", "SELECT COUNT(*) FROM outbox WHERE locked_until IS NOT NULL"),
        ("files of no mail", "SELECT COUNT(*) FROM attachments WHERE message_id NOT IN (SELECT id FROM messages)"),
        (
            "mail of no ticket",
            "SELECT COUNT(*) FROM outbox WHERE ticket_id IS NOT NULL AND ticket_id NOT IN (SELECT id FROM tickets)",
        ),
        ("history of no ticket", "SELECT COUNT(*) FROM ticket_events WHERE ticket_id NOT IN (SELECT id FROM tickets)"),
        (
            "reports of no ticket",
            "SELECT COUNT(*) FROM messages WHERE verdict IN ('ticket', 'reply') AND ticket_id IS NULL",
        ),
    ] {
        assert_eq!(
            crate::support::count(&hd.config.database_url, sql).await,
            0,
            "{what} after the restart ({point:?}, {db:?})"
        );
    }
    eprintln!(
        "crash at {} ({db:?}): {REPORTS} reports, {REPORTS} tickets, {recorded_not_moved} recorded and not moved \
         before the kill, {} re-sent",
        point.as_str(),
        resent.len()
    );
    resent
}

/// A mail arriving between the last look at the folder and the IDLE command (test plan 6): the
/// intake is held in that window while the mail is put in, and it must be taken in at once, not at
/// the next IDLE refresh (minutes away).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_arriving_just_before_idle_is_taken_in_at_once() {
    crate::support::level::needs!(Rig, Faults);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(Db::Sqlite).await;
    assert!(hd.config.imap.idle_secs >= 60, "the IDLE refresh is far away: {} s", hd.config.imap.idle_secs);
    let config = hd.config_file();
    let mark = config.with_file_name(format!("{}.paused", unique("mark")));
    let mark_text = mark.to_string_lossy().into_owned();
    let serve = Serve::start_with(
        &config,
        "serve",
        &[("RD_PAUSE_AT", Point::DrainedNotIdling.as_str()), ("RD_PAUSE_MARK", &mark_text), ("RD_PAUSE_MS", "2000")],
    );
    crate::support::eventually("the intake held before IDLE", Duration::from_secs(30), || async {
        mark.exists().then_some(())
    })
    .await;
    let token = unique("I");
    let (_, raw) = reports(&token, &hd.address, 1).remove(0);
    append(&hd.address, "INBOX", &raw).await;
    let put = std::time::Instant::now();
    let store = hd.store().await;
    crate::support::eventually("the ticket, long before the IDLE refresh", Duration::from_secs(20), || async {
        (store.count(routedesk::store::Counted::Tickets).await.ok()? == 1).then_some(())
    })
    .await;
    let took = put.elapsed();
    eprintln!("mail put in inside the window before IDLE: a ticket {took:?} later");
    serve.terminate();
}
