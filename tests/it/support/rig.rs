//! The local mail rig. When the rig is required (`ROUTEDESK_TEST_SERVICES`, set by `scripts/test`) it
//! is started once per test run by `scripts/rig start` (which installs Dovecot and Postfix when
//! missing, as root); otherwise the tests use a running rig and never install anything. Tests that
//! stop part of it take the exclusive side of [`RIG_LOCK`]; all others hold the shared side, so an
//! outage never hits a test that does not expect one.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use tokio::sync::RwLock;

use super::level::{self, Service};

pub struct Rig {
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
    /// SMTP submission with AUTH (password, XOAUTH2, OAUTHBEARER).
    pub submission_port: u16,
    /// The same behind implicit TLS.
    pub smtps_port: u16,
    pub ca_cert: String,
    pub password: String,
}

pub static RIG_LOCK: RwLock<()> = RwLock::const_new(());

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/rig")
}

/// Runs `scripts/rig ARGS`, failing the test with the script's output if it fails.
pub fn run(args: &[&str]) -> String {
    let out = Command::new(script()).args(args).output().expect("scripts/rig runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/rig {} failed:\n{text}", args.join(" "));
    text
}

/// The rig's addresses (a test that calls this says `needs!(Rig)` first).
pub fn ensure() -> &'static Rig {
    static RIG: OnceLock<Rig> = OnceLock::new();
    RIG.get_or_init(|| {
        if Service::Rig.required() {
            run(&["start"]);
        }
        let env = level::script_env("rig");
        let var = |name: &str| level::env_var(&env, name);
        let port = |name: &str| var(name).parse::<u16>().unwrap_or_else(|_| panic!("{name} is not a port"));
        Rig {
            imap_port: port("RIG_IMAP_PORT"),
            imaps_port: port("RIG_IMAPS_PORT"),
            smtp_port: port("RIG_SMTP_PORT"),
            submission_port: port("RIG_SUBMISSION_PORT"),
            smtps_port: port("RIG_SMTPS_PORT"),
            ca_cert: var("RIG_CA_CERT"),
            password: var("RIG_PASSWORD"),
        }
    })
}

/// Postfix stopped until the guard is dropped — at the end of the test or when it fails, so a
/// failing test never leaves the rig without SMTP. Only for a test holding `RIG_LOCK.write()`.
pub struct SmtpDown(());

impl SmtpDown {
    pub fn begin() -> SmtpDown {
        run(&["stop-smtp"]);
        SmtpDown(())
    }
}

impl Drop for SmtpDown {
    fn drop(&mut self) {
        let started = Command::new(script()).arg("start-smtp").status();
        // A second panic while the test unwinds would abort the whole run.
        if !std::thread::panicking() {
            assert!(started.is_ok_and(|s| s.success()), "scripts/rig start-smtp failed");
        }
    }
}
