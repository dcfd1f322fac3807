//! What a test creates outside itself — a folder under the temporary directory, an SQLite file, a
//! PostgreSQL database — is removed when the test ends, by the guard's `Drop`. What a crashed or
//! killed run left behind (an hour old or more, so never a running test's) is swept once per run.

use std::path::Path;
use std::process::Command;
use std::sync::Once;
use std::time::Duration;

use tempfile::TempDir;

use super::level::pg_admin_url;
use super::{Db, unique};

/// Older than this, a test's leftovers belong to no running test (the whole suite takes minutes).
const STALE: Duration = Duration::from_secs(3600);

/// The prefixes of the folders tests create under the temporary directory.
const PREFIXES: [&str; 2] = ["routedesk-test-", "routedesk-conf-"];

/// A fresh folder under the temporary directory, removed with the guard.
pub fn temp_dir(prefix: &str) -> TempDir {
    sweep_folders();
    tempfile::Builder::new().prefix(prefix).tempdir().expect("a temporary folder")
}

/// A fresh, empty database of a test, and a folder beside it (for the SQLite file, a configuration,
/// logs); both removed when the guard is dropped. A PostgreSQL database is dropped `WITH (FORCE)`,
/// so a pool still open in the test does not keep it.
pub struct TestDatabase {
    pub url: String,
    dir: TempDir,
    postgres: Option<String>,
}

impl TestDatabase {
    pub async fn new(db: Db) -> TestDatabase {
        let dir = temp_dir(PREFIXES[0]);
        match db {
            Db::Sqlite => {
                let url = format!("sqlite://{}/routedesk.db", dir.path().display());
                TestDatabase { url, dir, postgres: None }
            }
            Db::Postgres => {
                let admin = pg_admin_url();
                sweep_databases(&admin);
                let name = unique("rdtest_").to_lowercase();
                psql(&admin, &format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                TestDatabase { url: format!("{base}/{name}"), dir, postgres: Some(name) }
            }
        }
    }

    /// The test's own folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres
            && let Err(e) = psql(&pg_admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        {
            eprintln!("warning: test database {name} not dropped: {e}");
        }
    }
}

fn psql(admin: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([admin, "-qAt", "-c", sql])
        .output()
        .map_err(|e| format!("psql does not run (PostgreSQL client installed?): {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Removes the test folders a killed run left (once per run).
fn sweep_folders() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let ours = PREFIXES.iter().any(|p| name.to_string_lossy().starts_with(p));
            let stale = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|a| a > STALE));
            if ours && stale {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    });
}

/// Drops the test databases a killed run left (once per run; their age is that of their files,
/// which the server's administrator may read).
fn sweep_databases(admin: &str) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let stale = psql(
            admin,
            &format!(
                "SELECT datname FROM pg_database WHERE datname LIKE 'rdtest\\_%' AND \
                 (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '{} seconds'",
                STALE.as_secs()
            ),
        );
        match stale {
            Ok(names) => {
                for name in names.lines().filter(|n| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
                    let _ = psql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            Err(e) => eprintln!("warning: old test databases not looked for: {e}"),
        }
    });
}
