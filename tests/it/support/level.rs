//! Test levels: a test that needs a service beyond the pure code and SQLite (the mail rig,
//! PostgreSQL, the OpenID provider, Chromium, or root to mount a file system) says so with
//! [`needs!`]. When the service is absent it skips with a message on stderr — unless
//! `ROUTEDESK_TEST_SERVICES` makes that service required (`all`, or a comma list of `rig`,
//! `postgres`, `oidc`, `browser`, `root`, `faults`; `scripts/test` sets `all`), in which case an
//! absent service fails the test. (`faults` is the build's crash points, `--features fault-injection`.)

use std::io::Write as _;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs as _};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Rig,
    Postgres,
    Oidc,
    Browser,
    Root,
    /// The crash points of `src/faults.rs`, built in.
    Faults,
}

impl Service {
    fn key(self) -> &'static str {
        match self {
            Service::Rig => "rig",
            Service::Postgres => "postgres",
            Service::Oidc => "oidc",
            Service::Browser => "browser",
            Service::Root => "root",
            Service::Faults => "faults",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Service::Rig => "the mail rig",
            Service::Postgres => "PostgreSQL",
            Service::Oidc => "the OpenID provider",
            Service::Browser => "Chromium and tests/e2e/node_modules",
            Service::Root => "root (to mount a small file system)",
            Service::Faults => "a build with the crash points (cargo test --features fault-injection)",
        }
    }

    /// Whether `ROUTEDESK_TEST_SERVICES` makes this service required.
    pub fn required(self) -> bool {
        std::env::var("ROUTEDESK_TEST_SERVICES")
            .is_ok_and(|v| v.split(',').map(str::trim).any(|s| s == "all" || s == self.key()))
    }

    /// Whether the service answers, probed once per run; `Err` says where it was looked for.
    fn probe(self) -> &'static Result<(), String> {
        static PROBES: [OnceLock<Result<(), String>>; 6] = [const { OnceLock::new() }; 6];
        PROBES[self as usize].get_or_init(|| match self {
            Service::Rig => {
                let env = script_env("rig");
                ["RIG_IMAP_PORT", "RIG_IMAPS_PORT", "RIG_SMTP_PORT", "RIG_SUBMISSION_PORT"]
                    .iter()
                    .try_for_each(|k| listens(&format!("127.0.0.1:{}", env_var(&env, k))))
            }
            Service::Postgres => {
                let url = reqwest::Url::parse(&pg_admin_url()).map_err(|e| format!("ROUTEDESK_TEST_PG: {e}"))?;
                listens(&format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(5432)))
            }
            Service::Oidc => {
                let issuer = env_var(&script_env("oidc"), "OIDC_ISSUER");
                let url = reqwest::Url::parse(&issuer).map_err(|e| format!("OIDC_ISSUER {issuer}: {e}"))?;
                listens(&format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(80)))
            }
            Service::Browser => {
                let modules = root().join("tests/e2e/node_modules/playwright-core");
                let chromium =
                    std::env::var_os("RD_CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
                match (modules.is_dir(), chromium.is_file()) {
                    (true, true) => Ok(()),
                    (false, _) => Err(format!("{} is missing (npm ci in tests/e2e)", modules.display())),
                    (_, false) => Err(format!("{} is missing", chromium.display())),
                }
            }
            Service::Root => {
                let uid = std::process::Command::new("id").arg("-u").output().map_err(|e| format!("id -u: {e}"))?;
                let uid = String::from_utf8_lossy(&uid.stdout).trim().to_string();
                if uid == "0" { Ok(()) } else { Err(format!("running as uid {uid}")) }
            }
            Service::Faults if cfg!(feature = "fault-injection") => Ok(()),
            Service::Faults => Err("built without the fault-injection feature".into()),
        })
    }
}

/// Whether a test that needs `services` runs: `true` when each is there; `false` (after saying so
/// on stderr) when one is absent and not required. Fails the test when a required one is absent.
pub fn available(module: &str, services: &[Service]) -> bool {
    // libtest names each test's thread after the test, and `#[tokio::test]` runs the body on it.
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").unwrap_or(module);
    for &s in services {
        if let Err(why) = s.probe() {
            assert!(
                !s.required(),
                "{test} needs {} (required by ROUTEDESK_TEST_SERVICES), which is not there: {why}",
                s.what()
            );
            // Straight to stderr: `eprintln!` would be captured and hidden for a test that passes.
            let _ = writeln!(
                std::io::stderr(),
                "skipped {test}: needs {} ({why}); scripts/test starts it, ROUTEDESK_TEST_SERVICES={} makes it required",
                s.what(),
                s.key()
            );
            return false;
        }
    }
    true
}

/// At the top of a test: returns from it (a skip) when a service it needs is absent and not required.
/// `needs!(Rig, Postgres)`.
macro_rules! needs {
    ($($service:ident),+ $(,)?) => {
        if !$crate::support::level::available(
            module_path!(),
            &[$($crate::support::level::Service::$service),+],
        ) {
            return;
        }
    };
}
pub(crate) use needs;

/// The administrator's URL of the PostgreSQL server for test databases.
pub fn pg_admin_url() -> String {
    std::env::var("ROUTEDESK_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What `scripts/NAME env` prints: where that service is (it honours the same variables, e.g.
/// `RIG_IMAP_PORT`, `OIDC_PORT`), without starting or installing anything.
pub fn script_env(name: &str) -> String {
    let out = std::process::Command::new(root().join("scripts").join(name))
        .arg("env")
        .output()
        .unwrap_or_else(|e| panic!("scripts/{name} env runs: {e}"));
    assert!(out.status.success(), "scripts/{name} env failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One `export NAME=value` of a script's `env` output.
pub fn env_var(env: &str, name: &str) -> String {
    env.lines()
        .find_map(|l| l.strip_prefix(&format!("export {name}=")))
        .unwrap_or_else(|| panic!("env output lacks {name}"))
        .trim_matches(['"', '\''])
        .to_string()
}

fn listens(addr: &str) -> Result<(), String> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs().map_err(|e| format!("{addr}: {e}"))?.collect();
    addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).ok())
        .map(drop)
        .ok_or_else(|| format!("nothing listens on {addr}"))
}
