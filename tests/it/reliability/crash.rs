//! SIGKILL at random points while routedesk ingests and sends; two instances on one mailbox.

use std::collections::HashMap;
use std::time::Duration;

use routedesk::store::Counted;

use crate::service::on_both_databases;
use crate::support::mail::{Report, folder, inbox_emptied, inbox_with, send_many};
use crate::support::process::Serve;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, Helpdesk, eventually, unique};

const WAIT: Duration = Duration::from_secs(180);
pub(super) const CONTACT: &str = "par@vestre-toten.kommune.no";

/// `n` complete reports from Vestre Toten (one contact, cc the helpdesk), each from its own
/// reporter so each also gets an acknowledgement.
pub(super) fn reports(token: &str, to: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let from = format!("reporter{i}.{}@vestre-toten.kommune.no", token.to_lowercase());
            let mut r = Report::complete(&format!("{token}-{i:03}"), to);
            r.from = Box::leak(from.clone().into_boxed_str());
            r.message_id = format!("{token}-{i}@vestre-toten.kommune.no");
            (from, r.to_bytes())
        })
        .collect()
}

/// Checks that every report became exactly one ticket and that every expected mail arrived: one
/// routing mail per report at the contact (duplicates only as re-sends of the same Message-ID after
/// a kill between the SMTP server's 250 and our commit: at most the batches in flight, one per
/// outbox session, per kill). `resent_at_least` copies are known to be on their way (the kill came
/// after a 250): the look at the contact's mailbox waits for them too, since Postfix may deliver a
/// re-sent copy after every report's first copy is in.
pub(super) async fn assert_exactly_once(
    hd: &Helpdesk,
    token: &str,
    n: usize,
    kills: usize,
    resent_at_least: usize,
) -> Delivered {
    let in_flight = (hd.config.outbox.sessions * hd.config.outbox.batch) as usize;
    let store = hd.store().await;
    eventually("every report a ticket and every mail sent", WAIT, || async {
        let done = store.count(Counted::Tickets).await.ok()? == n as i64 && store.outbox_pending().await.ok()? == 0;
        done.then_some(())
    })
    .await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), n as i64, "exactly one ticket per report");
    inbox_emptied(&hd.address, WAIT).await;
    assert_eq!(folder(&hd.address, "Processed").await.len(), n, "every report moved once");

    let delivered = eventually("every routing mail delivered", WAIT, || async {
        let m = inbox_with(CONTACT, token).await;
        let distinct: std::collections::HashSet<_> = m.iter().map(|m| m.subject.clone()).collect();
        (distinct.len() >= n && m.len() >= n + resent_at_least).then_some(m)
    })
    .await;
    let mut per_report: HashMap<String, Vec<String>> = HashMap::new();
    for m in &delivered {
        per_report.entry(m.subject.clone()).or_default().push(m.message_id.clone());
    }
    assert_eq!(per_report.len(), n, "every report routed");
    let mut resent = vec![];
    for (subject, ids) in &per_report {
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), 1, "{subject}: one routing mail, not two different ones: {ids:?}");
        resent.extend(ids.iter().skip(1).cloned());
    }
    assert!(
        resent.len() <= kills * in_flight,
        "{} re-sent copies after {kills} kills, with at most {in_flight} mails in flight",
        resent.len()
    );
    Delivered { mails: delivered.len(), resent }
}

/// The routing mail that reached the contact: how many, and the Message-IDs that came twice.
pub(super) struct Delivered {
    pub mails: usize,
    pub resent: Vec<String>,
}

/// Two `serve` processes on one PostgreSQL database and mailbox while `n` reports arrive: once
/// `tickets` are made, the instance holding the mailbox lease (as the database says) and the other.
struct TwoInstances {
    hd: Helpdesk,
    token: String,
    n: usize,
    store: routedesk::store::Store,
    lease: String,
    /// The holder's name in the lease.
    first: String,
    holder: Serve,
    other: Serve,
    sender: tokio::task::JoinHandle<()>,
}

impl TwoInstances {
    async fn start(tag: &str, n: usize, tickets: i64) -> TwoInstances {
        let hd = Helpdesk::new(Db::Postgres).await;
        let config = hd.config_file();
        let token = unique(tag);
        let a = Serve::start(&config, "a");
        let b = Serve::start(&config, "b");
        let sender = tokio::spawn({
            let mail = reports(&token, &hd.address, n);
            let to = hd.address.clone();
            async move { send_many(&mail, &to).await }
        });
        let store = hd.store().await;
        eventually("some tickets", WAIT, || async {
            (store.count(Counted::Tickets).await.ok()? >= tickets).then_some(())
        })
        .await;
        let lease = format!("imap:{}", routedesk::intake::key(&hd.config.imap));
        let first =
            store.lease_holder(&lease, time::OffsetDateTime::now_utc()).await.expect("lease").expect("a holder");
        let (holder, other) = if first.starts_with(&format!("{}-", a.pid())) { (a, b) } else { (b, a) };
        assert!(first.starts_with(&format!("{}-", holder.pid())), "the holder {first} is one of the two instances");
        TwoInstances { hd, token, n, store, lease, first, holder, other, sender }
    }

    /// Waits until the other instance holds the mailbox lease; its name in the lease.
    async fn taken_over(&self) -> String {
        let second = eventually("the other instance holds the mailbox", WAIT, || async {
            let h = self.store.lease_holder(&self.lease, time::OffsetDateTime::now_utc()).await.ok()??;
            (h != self.first).then_some(h)
        })
        .await;
        assert!(second.starts_with(&format!("{}-", self.other.pid())), "{second} is the other instance");
        second
    }
}

on_both_databases!(sigkill_mid_stream_loses_and_doubles_nothing);

async fn sigkill_mid_stream_loses_and_doubles_nothing(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(db).await;
    let config = hd.config_file();
    let token = unique("K");
    let n: usize = std::env::var("ROUTEDESK_KILL_REPORTS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let mail = reports(&token, &hd.address, n);
    let sender = tokio::spawn({
        let to = hd.address.clone();
        async move { send_many(&mail, &to).await }
    });
    let mut kills = 0;
    let mut serve = Serve::start(&config, "serve");
    let store = hd.store().await;
    for round in 0..4 {
        // Kill at a random moment while there is still work: ingesting, or sending.
        tokio::time::sleep(Duration::from_millis(300 + fastrand::u64(0..1500))).await;
        let tickets = store.count(Counted::Tickets).await.unwrap_or(0);
        let pending = store.outbox_pending().await.unwrap_or(0);
        serve.kill9();
        kills += 1;
        eprintln!("kill {round}: {tickets} tickets, {pending} mails queued");
        serve = Serve::start(&config, "serve");
    }
    sender.await.expect("all reports delivered to the rig");
    let Delivered { mails: delivered, resent } = assert_exactly_once(&hd, &token, n, kills, 0).await;
    let duplicates = resent.len();
    eprintln!(
        "sigkill ({db:?}): {n} reports, {n} tickets, {delivered} routing mails at the contact, {duplicates} re-sent copies, {kills} kills"
    );
    serve.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_postgres_one_killed() {
    crate::support::level::needs!(Rig, Postgres);
    let _rig = RIG_LOCK.read().await;
    let mut t = TwoInstances::start("D", 200, 40).await;
    // Kill whichever holds the mailbox; the other takes over when the lease runs out.
    let killed = std::time::Instant::now();
    t.holder.kill9();
    let _ = t.taken_over().await;
    let took = killed.elapsed();
    let ttl = std::time::Duration::try_from(routedesk::intake::LEASE_TTL).expect("a positive lease");
    assert!(took <= ttl + std::time::Duration::from_secs(5), "taken over in {took:?}, the lease is {ttl:?}");
    t.sender.await.expect("all reports delivered");
    let (n, token) = (t.n, &t.token);
    let Delivered { mails: delivered, resent } = assert_exactly_once(&t.hd, token, n, 1, 0).await;
    let duplicates = resent.len();
    eprintln!(
        "two instances: {n} reports, {n} tickets, {delivered} routing mails, {duplicates} re-sent copies; taken over in {took:?}"
    );
    t.other.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_on_one_sqlite_file_is_refused() {
    crate::support::level::needs!(Rig);
    let hd = Helpdesk::new(Db::Sqlite).await;
    let first = hd.start().await;
    let second = routedesk::service::start(&hd.config).await;
    let err = format!("{:#}", second.err().expect("a second instance is refused"));
    assert!(err.contains("another `routedesk serve` is already running"), "{err}");
    first.stop(Duration::from_secs(30)).await.expect("stops");
    let again = hd.start().await;
    again.stop(Duration::from_secs(30)).await.expect("stops");
}

/// A poller frozen (SIGSTOP) past its lease while it held the mailbox, then thawed (test plan 12):
/// the other instance took over meanwhile; the thawed one finds its lease gone and takes nothing
/// twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_instance_thawed_after_the_takeover_doubles_nothing() {
    crate::support::level::needs!(Rig, Postgres);
    let _rig = RIG_LOCK.read().await;
    let t = TwoInstances::start("Z", 200, 30).await;
    let frozen = std::time::Instant::now();
    t.holder.signal("STOP");
    let second = t.taken_over().await;
    let took = frozen.elapsed();
    let ttl = std::time::Duration::try_from(routedesk::intake::LEASE_TTL).expect("a positive lease");
    assert!(took <= ttl + std::time::Duration::from_secs(5), "taken over in {took:?}, the lease is {ttl:?}");
    // One poller at a time: from the takeover on, the lease names the other instance only.
    let watching = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let samples = tokio::spawn({
        let (store, lease, watching) = (t.store.clone(), t.lease.clone(), watching.clone());
        async move {
            let mut seen = std::collections::BTreeSet::new();
            while watching.load(std::sync::atomic::Ordering::Relaxed) {
                let now = time::OffsetDateTime::now_utc();
                seen.insert(store.lease_holder(&lease, now).await.expect("lease").unwrap_or_default());
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            seen
        }
    });
    // The other works on for a while; then the frozen one wakes up in the middle of what it did.
    eventually("more tickets by the other", WAIT, || async {
        (t.store.count(Counted::Tickets).await.ok()? >= 60).then_some(())
    })
    .await;
    let before_thaw = t.holder.log_text().len();
    t.holder.signal("CONT");
    let (n, token, store) = (t.n, t.token.clone(), t.store.clone());
    t.sender.await.expect("all reports delivered");
    let Delivered { mails, resent } = assert_exactly_once(&t.hd, &token, n, 1, 0).await;
    watching.store(false, std::sync::atomic::Ordering::Relaxed);
    let holders = samples.await.expect("the lease was watched");
    assert_eq!(holders, [second].into_iter().collect(), "only the other instance held the mailbox after the takeover");
    // Thawed, it takes nothing in: no ticket, no reply recorded by it after it woke.
    let woke = t.holder.log_text().get(before_thaw..).unwrap_or_default().to_string();
    assert!(!woke.contains("new ticket") && !woke.contains("reply added"), "the thawed instance took mail in:\n{woke}");
    assert_eq!(store.count(Counted::Inbound).await.expect("count"), n as i64, "each mail recorded once");
    // As after a kill, only the batches in flight when it froze can arrive twice (checked above),
    // each marked for staff; a claim taken over is not sent again by the thawed instance (it says
    // so in its log when it happens).
    let routing = store.outbox_of_kind(routedesk::domain::OutboxKind::Routing).await.expect("routing mail");
    for id in &resent {
        let row = routing.iter().find(|r| &r.message_id == id).expect("a re-sent mail is one of ours");
        assert!(row.maybe_sent, "{id} arrived twice and is marked so");
    }
    eprintln!("frozen and thawed: {n} reports, {n} tickets, {mails} routing mails, {} re-sent", resent.len());
    t.holder.terminate();
    t.other.terminate();
}
