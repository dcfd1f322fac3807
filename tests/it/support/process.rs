//! The `routedesk` binary as a separate process, so tests can kill it with SIGKILL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct Serve {
    child: Child,
    pub log: PathBuf,
}

impl Serve {
    pub fn start(config: &Path, name: &str) -> Serve {
        Serve::start_with(config, name, &[])
    }

    /// Started with extra environment variables (the crash points of `src/faults.rs`).
    pub fn start_with(config: &Path, name: &str, env: &[(&str, &str)]) -> Serve {
        let log = config.with_file_name(format!("{name}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_routedesk"))
            .args(["serve", "--config"])
            .arg(config)
            .env("ROUTEDESK_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .expect("routedesk starts");
        Serve { child, log }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait: the graceful stop.
    pub fn terminate(mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }

    /// Waits up to `limit` for the process to end by itself; its exit status, or `None` if it
    /// still runs.
    pub async fn ended(&mut self, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("the process can be waited for") {
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Sends a signal by name (`STOP`, `CONT`).
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill").arg(format!("-{name}")).arg(self.child.id().to_string()).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{name} {}", self.child.id());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// The process's peak resident memory so far (VmHWM), in MB.
    pub fn peak_rss_mb(&self) -> f64 {
        status_kb(self.pid(), "VmHWM") / 1024.0
    }

    /// The process's resident memory now (VmRSS), in MB.
    pub fn rss_mb(&self) -> f64 {
        self.status_mb("VmRSS:")
    }

    fn status_mb(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("the process runs");
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
        kb / 1024.0
    }

    /// Sets the peak (VmHWM) back to the memory in use now, so the next peak read is what came
    /// after (Linux: `5` to `/proc/PID/clear_refs`).
    pub fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5").expect("the peak can be reset");
    }

    /// The CPU time the process has used so far, every thread, user and system, in seconds.
    pub fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("the process runs");
        // After the command's name, in parentheses: state is the 3rd field, utime the 14th.
        let fields: Vec<&str> =
            stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default().split_whitespace().collect();
        let ticks: f64 = fields[11..13].iter().map(|f| f.parse::<f64>().expect("clock ticks")).sum();
        ticks / clock_ticks_per_second()
    }
}

/// `getconf CLK_TCK`: what `/proc/PID/stat` counts time in (100 on Linux).
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf runs");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("CLK_TCK is a number")
    })
}

/// A free loopback port for a child's web view (taken again at once by the child).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A plain HTTP GET of `path` on a loopback port; the body.
pub async fn http_get(port: u16, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("the web view listens");
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes()).await.expect("request");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("response");
    out.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}

/// What a running process holds, read from /proc: for a soak's bounds.
#[derive(Debug, Clone, Default)]
pub struct Held {
    pub rss_mb: f64,
    pub fds: usize,
    /// Its database connections: open SQLite files (`.db`), or TCP connections to PostgreSQL.
    pub db_connections: usize,
    /// Their TCP states (hex, as in /proc/net/tcp: 01 established, 08 close-wait …), with counts.
    pub db_states: std::collections::BTreeMap<String, usize>,
}

/// What process `pid` holds now.
pub fn held_by(pid: u32) -> Held {
    let rss_kb = status_kb(pid, "VmRSS");
    let links: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("its fds")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let sockets: std::collections::HashSet<&str> =
        links.iter().filter_map(|l| l.strip_prefix("socket:[")?.strip_suffix(']')).collect();
    // /proc/net/tcp*: local, remote (hex ip:port), ..., the socket's inode tenth. The kernel writes
    // these tables a chunk per read and resumes by position: while other connections open and
    // close (the other tests'), one socket can be listed twice in a read, so each is counted once,
    // by its inode.
    let mut by_inode = std::collections::HashMap::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"].iter().filter_map(|f| std::fs::read_to_string(f).ok()) {
        for l in table.lines().skip(1) {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if let (Some(remote), Some(state), Some(inode)) = (cols.get(2), cols.get(3), cols.get(9))
                && remote.ends_with(":1538")
                && sockets.contains(inode)
            {
                by_inode.insert(inode.to_string(), state.to_string());
            }
        }
    }
    let mut db_states = std::collections::BTreeMap::new();
    for state in by_inode.into_values() {
        *db_states.entry(state).or_insert(0) += 1;
    }
    let to_postgres = db_states.values().sum::<usize>();
    let sqlite_files = links.iter().filter(|l| l.ends_with(".db")).count();
    Held { rss_mb: rss_kb / 1024.0, fds: links.len(), db_connections: to_postgres + sqlite_files, db_states }
}

/// A figure in kB from /proc/PID/status (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// The PostgreSQL server's connections of the instance in process `pid` (named in their
/// `application_name`); 0 on SQLite, which has no server.
pub async fn server_connections(store: &routedesk::store::Store, pid: u32) -> i64 {
    const SQL: &str = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name LIKE $1";
    match store.pool() {
        routedesk::store::Pool::Postgres(p) => {
            let (n,): (i64,) = sqlx::query_as(SQL)
                .bind(format!("routedesk {pid}-%"))
                .fetch_one(p)
                .await
                .expect("the server's connections");
            n
        }
        routedesk::store::Pool::Sqlite(_) => 0,
    }
}

/// After an instance was killed: waits until the server has ended its connections. The server
/// finishes a statement the instance sent just before it died (a COMMIT, an autocommitted claim)
/// before it notices, so what the dead instance wrote is final only then.
pub async fn settled_after_kill(store: &routedesk::store::Store, pid: u32) {
    crate::support::eventually(
        "the killed instance's connections ended",
        std::time::Duration::from_secs(60),
        || async { (server_connections(store, pid).await == 0).then_some(()) },
    )
    .await;
}
