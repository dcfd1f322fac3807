//! Test harness: the real mail rig (Dovecot + Postfix on loopback, started by `scripts/rig`), a fresh
//! database per test (SQLite file or PostgreSQL database), the service started in-process, and
//! helpers to send mail and read mailboxes over IMAP.

pub mod level;
pub mod lose_answer;
pub mod mail;
pub mod oidc;
pub mod process;
pub mod proxy;
pub mod rig;
pub mod scan;
pub mod scratch;
pub mod stall;
pub mod trace;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use routedesk::config::Config;
use routedesk::desk::Desk;
use routedesk::domain::{OutboxKind, OutboxStatus};
use routedesk::service::{self, Running};
use routedesk::store::{NewOutbox, Store};
use routedesk::text::address::EmailAddress;
use scratch::TestDatabase;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A name no other test (in this run or an earlier one) uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}{}x{}x{nanos:x}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// The configuration of a desk without the rig: the built-in policy, our receiving server
/// `mx.gjovik.kommune.no`, the helpdesk address `helpdesk@routedesk.test`, the database at `url`.
/// The fixture reports are written to the region's helpdesk address, which counts as an alias of
/// the mailbox here, so they are answered as mail written to it.
pub fn desk_config(url: &str) -> Config {
    let text = format!(
        r#"
mailbox = "helpdesk@routedesk.test"
addressed_as = ["pureservice@gjovik.kommune.no"]
database_url = "{url}"
trusted_authserv_id = "mx.gjovik.kommune.no"
[imap]
url = "imap://127.0.0.1:1"
user = "helpdesk@routedesk.test"
password = "unused"
[smtp]
url = "smtp://127.0.0.1:1"
"#
    );
    Config::from_toml(&text).expect("desk test config is valid")
}

/// A desk without the rig on a fresh database of its own, removed with the guard.
pub async fn desk_on_new(db: Db) -> (Desk, TestDatabase) {
    let database = TestDatabase::new(db).await;
    (desk_on(&database.url).await, database)
}

/// The desk on the database at `url`, without the rig (see [`desk_config`]).
pub async fn desk_on(url: &str) -> Desk {
    let store = Store::connect(url).await.expect("store");
    Desk::new(&desk_config(url), store).await.expect("desk")
}

/// The one way a test starts routedesk on the real rig: its own helpdesk (a unique mailbox, a
/// fresh database of kind `db`) and the service running in-process. The test says `needs!(Rig)`.
pub async fn spawn_helpdesk(db: Db) -> (Helpdesk, Running) {
    spawn_helpdesk_with(db, |_| {}).await
}

/// As [`spawn_helpdesk`], with the configuration changed by `change` before the service starts.
pub async fn spawn_helpdesk_with(db: Db, change: impl FnOnce(&mut Config)) -> (Helpdesk, Running) {
    let mut hd = Helpdesk::new(db).await;
    change(&mut hd.config);
    let svc = hd.start().await;
    (hd, svc)
}

/// A test's own helpdesk: a unique mailbox on the rig and a fresh database.
pub struct Helpdesk {
    pub address: String,
    pub config: Config,
    /// The configuration as written, for running the `routedesk` binary.
    pub toml: String,
    /// Its database and folder, removed with the helpdesk.
    database: TestDatabase,
}

impl Helpdesk {
    pub async fn new(db: Db) -> Helpdesk {
        Helpdesk::at(db, &format!("{}@routedesk.test", unique("helpdesk-"))).await
    }

    /// A helpdesk whose mailbox is `address` (e.g. one inside the region's domains).
    pub async fn at(db: Db, address: &str) -> Helpdesk {
        let rig = rig::ensure();
        let database = TestDatabase::new(db).await;
        let address = address.to_string();
        let text = format!(
            r#"
mailbox = "{address}"
display_name = "Helpdesk Gjøvik"
database_url = "{db}"
[imap]
url = "imaps://127.0.0.1:{imaps}"
ca_cert = "{ca}"
user = "{address}"
password = "{pw}"
idle_secs = 60
# Off, so that no test counting IMAP connections meets the reconciliation's; its own test turns it on.
reconcile_secs = 0
[smtp]
url = "smtp://127.0.0.1:{smtp}"
[outbox]
retry_secs = 1
[web]
bind = "127.0.0.1:0"
"#,
            db = database.url,
            imaps = rig.imaps_port,
            ca = rig.ca_cert,
            pw = rig.password,
            smtp = rig.smtp_port,
        );
        let config = Config::from_toml(&text).expect("test config is valid");
        Helpdesk { address, config, toml: text, database }
    }

    /// Writes the configuration to a file for the `routedesk` binary (in the helpdesk's folder,
    /// where the binary's log goes too).
    pub fn config_file(&self) -> std::path::PathBuf {
        let path = self.database.dir().join(format!("{}.toml", unique("routedesk-")));
        std::fs::write(&path, &self.toml).expect("write config");
        path
    }

    /// Starts (or starts again) the service of this helpdesk; [`spawn_helpdesk`] makes and starts one.
    pub async fn start(&self) -> Running {
        init_logging();
        service::start(&self.config).await.expect("service starts")
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.config.database_url).await.expect("store opens")
    }
}

/// Runs one SQL statement on a test's database beside routedesk's own pool (to put it in a state
/// routedesk itself never writes, e.g. a table that cannot be read).
pub async fn exec(url: &str, sql: impl Into<String>) {
    let sql = sqlx::AssertSqlSafe(sql.into());
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        sqlx::query(sql).execute(&pool).await.expect("statement runs");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        sqlx::query(sql).execute(&pool).await.expect("statement runs");
        pool.close().await;
    }
}

/// The alerts the facts in `store` make hold now, as the once-a-minute check would find them.
pub async fn alerts_now(store: &Store, cfg: &Config) -> Vec<routedesk::alerts::Condition> {
    let facts = store.alert_facts().await.expect("the facts for alerts");
    let schedule = routedesk::alerts::Schedule::new(&cfg.alerts).expect("the schedule");
    routedesk::alerts::evaluate(&facts, &cfg.alerts, &schedule, time::OffsetDateTime::now_utc())
        .into_iter()
        .map(|f| f.condition)
        .collect()
}

/// A scale test's size: `short` in every run, `long` under `scripts/test --long`
/// (`ROUTEDESK_TEST_LONG=1`), the test plan's full size for a nightly run.
pub fn scale(short: usize, long: usize) -> usize {
    if std::env::var("ROUTEDESK_TEST_LONG").is_ok_and(|v| v == "1") { long } else { short }
}

/// A number one SQL statement gives on a test's database (`SELECT COUNT(*) …`).
pub async fn count(url: &str, sql: &'static str) -> i64 {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("sqlite");
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect("count");
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect("count");
        pool.close().await;
        n
    }
}

/// Queues one routing mail to `to` per subject straight through the store, as the desk does for a
/// ticket, in one transaction; their Message-IDs, in the same order.
pub async fn queue_mail(store: &Store, to: &EmailAddress, subjects: &[String]) -> Vec<String> {
    let mut tx = store.begin().await.expect("begin");
    let mut ids = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let message_id = format!("{}@routedesk.test", unique("queued-"));
        tx.insert_outbox(&NewOutbox {
            ticket_id: None,
            kind: OutboxKind::Routing,
            message_id: &message_id,
            envelope_from: "helpdesk@routedesk.test",
            to: std::slice::from_ref(to),
            cc: &[],
            in_reply_to: None,
            report_message: None,
            subject,
            body: "Prøvemelding.",
            status: OutboxStatus::Queued,
            at: time::OffsetDateTime::now_utc(),
        })
        .await
        .expect("queue");
        ids.push(message_id);
    }
    tx.commit().await.expect("commit");
    ids
}

/// Polls `check` until it returns `Some`, or fails the test after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Logs of in-process services, when `ROUTEDESK_TEST_LOG` is set (e.g. `info`).
pub fn init_logging() {
    if let Ok(filter) = std::env::var("ROUTEDESK_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
}

/// Log lines written on this thread while installed, for tests of what the log holds.
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    /// Captures every level on the current thread until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let me = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || me.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Why a mail was set aside, as English words (the reason is stored as data).
pub fn reason_text(m: &routedesk::store::MessageRow) -> String {
    routedesk::pipeline::set_aside::stored_text(
        m.reason.as_deref().unwrap_or_default(),
        routedesk::text::lang::Lang::En,
    )
}

/// An audit entry's detail as English words (the automatic entries are stored as data).
pub fn detail_text(e: &routedesk::store::EventRow) -> String {
    routedesk::domain::event::detail_text(&e.detail, routedesk::text::lang::Lang::En)
}
