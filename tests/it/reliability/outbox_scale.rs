//! The outbox at scale. Test plan 22: tickets keep coming while SMTP is down; their mail waits with
//! exponential backoff and jitter, then goes out once each. Test plan 26: four sending sessions in
//! two instances on one PostgreSQL queue, one instance killed mid-batch.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use routedesk::store::{Counted, Pool, Store};
use routedesk::text::address::EmailAddress;
use time::OffsetDateTime;

use super::crash::{Delivered, assert_exactly_once, reports};
use crate::service::on_both_databases;
use crate::support::mail::{append, message_ids};
use crate::support::process::{Serve, server_connections, settled_after_kill};
use crate::support::rig::{RIG_LOCK, SmtpDown};
use crate::support::{Db, Helpdesk, eventually, queue_mail, scale, spawn_helpdesk, unique};

const WAIT: Duration = Duration::from_secs(300);
/// Retries observed up to this attempt: delays of 1, 2, 4 and 8 times `retry_secs`.
const ATTEMPTS: i64 = 4;
/// Sending sessions of each instance in the workers test: four in all.
const SESSIONS: u32 = 2;

on_both_databases!(smtp_down_while_tickets_arrive);

/// Test plan 22.
async fn smtp_down_while_tickets_arrive(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.write().await;
    let n = scale(60, 500);
    let (hd, svc) = spawn_helpdesk(db).await;
    let store = hd.store().await;
    let smtp_down = SmtpDown::begin();
    let down = Instant::now();
    let token = unique("O");
    // With Postfix down, the reports go straight into the helpdesk mailbox.
    for (_, raw) in reports(&token, &hd.address, n) {
        append(&hd.address, "INBOX", &raw).await;
    }
    let mut retries = Retries::default();
    loop {
        retries.look(&store).await;
        let tickets = store.count(Counted::Tickets).await.expect("count");
        if tickets == n as i64 && retries.highest() >= ATTEMPTS {
            break;
        }
        let highest = retries.highest();
        assert!(
            down.elapsed() < WAIT,
            "after {WAIT:?}: {tickets} of {n} tickets, retries seen up to attempt {highest}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outage = down.elapsed();
    let queued = statuses(&store).await;
    assert_eq!(
        queued,
        BTreeMap::from([("queued".into(), 2 * n as i64)]),
        "a routing mail and an acknowledgement per ticket wait"
    );
    let delays = retries.assert_exponential_with_jitter(hd.config.outbox.retry_secs as f64);

    drop(smtp_down);
    let back = Instant::now();
    let Delivered { mails, resent } = assert_exactly_once(&hd, &token, n, 0, 0).await;
    assert_eq!((mails, resent.len()), (n, 0), "each routing mail arrived once");
    assert_eq!(statuses(&store).await, BTreeMap::from([("sent".into(), 2 * n as i64)]), "all sent, none failed");
    eprintln!(
        "smtp down ({db:?}): {n} reports, {n} tickets in an outage of {outage:.1?}, {} retries seen, mean delay by attempt {delays:?}; \
         {mails} routing mails at the contact {:.1?} after SMTP was back, 0 twice, {} sent, 0 failed",
        retries.seen.len(),
        back.elapsed(),
        2 * n
    );
    svc.stop(WAIT).await.expect("stops");
}

/// One failed attempt, with what the looks at the queue tell of the delay it was given.
struct Retry {
    attempt: i64,
    shortest: f64,
    longest: f64,
}

/// Failed attempts seen by looking at the queue again and again.
#[derive(Default)]
struct Retries {
    /// Each unclaimed row as last seen: its attempts, and when that look began.
    rows: HashMap<i64, (i64, OffsetDateTime)>,
    seen: Vec<Retry>,
}

impl Retries {
    async fn look(&mut self, store: &Store) {
        const SQL: &str = "SELECT id, attempts, next_attempt_at, last_error FROM outbox \
             WHERE status = 'queued' AND locked_until IS NULL";
        let began = OffsetDateTime::now_utc();
        let rows: Vec<(i64, i64, OffsetDateTime, Option<String>)> = match store.pool() {
            Pool::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await,
            Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await,
        }
        .expect("outbox rows");
        let ended = OffsetDateTime::now_utc();
        for (id, attempts, next, error) in rows {
            let Some((was, looked)) = self.rows.insert(id, (attempts, began)) else { continue };
            // A mail put back untried while its domain rests says "waiting for"; that is no attempt.
            let failed = error.is_some_and(|e| !e.starts_with("waiting for "));
            // Exactly one attempt since the last look saw the row unclaimed: it failed after that
            // look began (its claim came later) and was rescheduled before this one ended.
            if failed && attempts == was + 1 {
                let secs = |d: time::Duration| d.as_seconds_f64();
                self.seen.push(Retry { attempt: attempts, shortest: secs(next - ended), longest: secs(next - looked) });
            }
        }
    }

    fn highest(&self) -> i64 {
        self.seen.iter().map(|r| r.attempt).max().unwrap_or(0)
    }

    /// Each delay is `base × 2^(attempt-1)` ± 25 % (as far as the looks can tell), the delays grow
    /// with the attempts, and two retries were given different shares of their delay: jitter, so
    /// the backlog is not all due at one instant. The mean delay of each attempt, in seconds.
    fn assert_exponential_with_jitter(&self, base: f64) -> Vec<(i64, f64)> {
        // The clock's and the databases' rounding.
        const SLACK: f64 = 0.02;
        let share = |r: &Retry, secs: f64| secs / (base * 2f64.powi(r.attempt as i32 - 1));
        for r in &self.seen {
            let (low, high) = (share(r, r.shortest - SLACK), share(r, r.longest + SLACK));
            assert!(
                low <= 1.25 && high >= 0.75,
                "attempt {}: retried after {:.2}–{:.2} s, not {base} s × 2^{} ± 25 %",
                r.attempt,
                r.shortest,
                r.longest,
                r.attempt - 1
            );
        }
        let mut by_attempt: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for r in &self.seen {
            by_attempt.entry(r.attempt).or_default().push((r.shortest + r.longest) / 2.0);
        }
        let means: Vec<(i64, f64)> = by_attempt
            .iter()
            .map(|(a, d)| (*a, (d.iter().sum::<f64>() / d.len() as f64 * 100.0).round() / 100.0))
            .collect();
        assert!(
            (1..=ATTEMPTS).all(|a| by_attempt.contains_key(&a)),
            "retries of every attempt up to {ATTEMPTS}: {means:?}"
        );
        assert!(means.windows(2).all(|w| w[1].1 > w[0].1), "the delay grows with each attempt: {means:?}");
        let least_high = self.seen.iter().map(|r| share(r, r.longest)).fold(f64::INFINITY, f64::min);
        let most_low = self.seen.iter().map(|r| share(r, r.shortest)).fold(0.0, f64::max);
        assert!(
            least_high < most_low,
            "jitter: two retries given shares {least_high:.2} and {most_low:.2} of their delay"
        );
        means
    }
}

/// How many mails of each status the outbox holds.
async fn statuses(store: &Store) -> BTreeMap<String, i64> {
    const SQL: &str = "SELECT status, COUNT(*) FROM outbox GROUP BY status";
    let rows: Vec<(String, i64)> = match store.pool() {
        Pool::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await,
        Pool::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await,
    }
    .expect("outbox statuses");
    rows.into_iter().collect()
}

fn postgres(store: &Store) -> &sqlx::PgPool {
    match store.pool() {
        Pool::Postgres(p) => p,
        Pool::Sqlite(_) => panic!("this test runs on PostgreSQL"),
    }
}

/// The mails an instance (by its process id) has claimed and not yet recorded.
async fn claims_of(store: &Store, pid: u32) -> HashSet<i64> {
    const SQL: &str =
        "SELECT id FROM outbox WHERE status = 'queued' AND locked_until IS NOT NULL AND claimed_by LIKE $1";
    let rows: Vec<(i64,)> =
        sqlx::query_as(SQL).bind(format!("{pid}-%")).fetch_all(postgres(store)).await.expect("claims");
    rows.into_iter().map(|(id,)| id).collect()
}

async fn sent(store: &Store) -> i64 {
    statuses(store).await.get("sent").copied().unwrap_or(0)
}

/// Test plan 26.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_workers_send_each_job_once() {
    crate::support::level::needs!(Rig, Postgres);
    let _rig = RIG_LOCK.read().await;
    let jobs = scale(1000, 10_000);
    let wait = Duration::from_secs(120 + jobs as u64 / 20);
    let mut hd = Helpdesk::new(Db::Postgres).await;
    hd.config.outbox.sessions = SESSIONS;
    hd.toml = hd.toml.replace("[outbox]\n", &format!("[outbox]\nsessions = {SESSIONS}\n"));
    let in_flight = (SESSIONS * hd.config.outbox.batch) as usize;
    let config = hd.config_file();
    let store = hd.store().await;
    let to = EmailAddress::parse(&format!("{}@routedesk.test", unique("jobs-"))).expect("address");
    let token = unique("J");
    let ids = queue_mail(&store, &to, &(0..jobs).map(|i| format!("{token} jobb {i}")).collect::<Vec<_>>()).await;

    let started = Instant::now();
    let mut first = Serve::start(&config, "first");
    let second = Serve::start(&config, "second");
    eventually("a quarter of the jobs sent", wait, || async { (sent(&store).await >= jobs as i64 / 4).then_some(()) })
        .await;
    // Killed while it holds claims: mails it may have handed over without recording them.
    eventually("the first instance sending", wait, || async {
        (!claims_of(&store, first.pid()).await.is_empty()).then_some(())
    })
    .await;
    let killed = first.pid();
    assert!(server_connections(&store, killed).await > 0, "the instance's connections are named after it");
    first.kill9();
    // A claim or a record of sent mail the instance asked for just before it died still ends on
    // the server: its claims are final once its connections are gone.
    settled_after_kill(&store, killed).await;
    let (orphans, sent_at_kill) = (claims_of(&store, killed).await, sent(&store).await);
    assert!(
        (1..=in_flight).contains(&orphans.len()),
        "{} claims in flight at the kill, at most {in_flight}",
        orphans.len()
    );
    let again = Serve::start(&config, "first-again");

    eventually("every job sent", wait, || async { (sent(&store).await == jobs as i64).then_some(()) }).await;
    let sending = started.elapsed();
    assert_eq!(statuses(&store).await, BTreeMap::from([("sent".into(), jobs as i64)]), "none waiting or failed");
    let arrived = eventually("every job in the mailbox", wait, || async {
        let got = message_ids(to.as_str()).await;
        let distinct: HashSet<&str> = got.iter().map(String::as_str).collect();
        ids.iter().all(|id| distinct.contains(id.as_str())).then_some(got)
    })
    .await;

    let mut copies: HashMap<&str, usize> = HashMap::new();
    for id in &arrived {
        *copies.entry(id).or_default() += 1;
    }
    let ours: HashSet<&str> = ids.iter().map(String::as_str).collect();
    assert!(copies.keys().all(|id| ours.contains(id)), "only the queued jobs arrived");
    let twice: Vec<&str> = copies.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
    assert!(copies.values().all(|n| *n <= 2), "no job arrived three times");
    // A re-sent mail is one whose earlier claim never recorded its end: only the killed one's.
    const MAYBE_SENT: &str = "SELECT id, message_id FROM outbox WHERE maybe_sent";
    let maybe: HashMap<String, i64> = sqlx::query_as::<_, (i64, String)>(MAYBE_SENT)
        .fetch_all(postgres(&store))
        .await
        .expect("rows marked")
        .into_iter()
        .map(|(id, m)| (m, id))
        .collect();
    assert_eq!(
        maybe.values().copied().collect::<HashSet<_>>(),
        orphans,
        "exactly the killed instance's claims taken over"
    );
    for id in &twice {
        assert!(maybe.contains_key(*id), "{id} arrived twice, but no live worker may send a job another sent");
    }
    eprintln!(
        "concurrent workers: {jobs} jobs, {jobs} sent in {sending:.1?} by {} sessions in two instances; one killed at {sent_at_kill} sent \
         with {} claims in flight; {} mails at the mailbox, {} distinct, {} twice (at most {in_flight}), 0 lost",
        2 * SESSIONS,
        orphans.len(),
        arrived.len(),
        copies.len(),
        twice.len()
    );
    assert!(twice.len() <= orphans.len(), "only mails in flight at the kill arrived twice");
    second.terminate();
    again.terminate();
}
