//! Migrations, embedded in the binary and applied at start-up. One folder per backend, with the same
//! versions in both.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

const SQLITE: &[(i64, &str, &str)] = &[
    (1, "tickets", include_str!("../../migrations/sqlite/0001_tickets.sql")),
    (2, "staff", include_str!("../../migrations/sqlite/0002_staff.sql")),
    (3, "reliability", include_str!("../../migrations/sqlite/0003_reliability.sql")),
    (4, "scale", include_str!("../../migrations/sqlite/0004_scale.sql")),
    (5, "retention", include_str!("../../migrations/sqlite/0005_retention.sql")),
    (6, "incidents", include_str!("../../migrations/sqlite/0006_incidents.sql")),
    (7, "privacy", include_str!("../../migrations/sqlite/0007_privacy.sql")),
    (8, "recipients", include_str!("../../migrations/sqlite/0008_recipients.sql")),
    (9, "web security", include_str!("../../migrations/sqlite/0009_web_security.sql")),
    (10, "alerts", include_str!("../../migrations/sqlite/0010_alerts.sql")),
    (11, "erasure", include_str!("../../migrations/sqlite/0011_erasure.sql")),
    (12, "staff sso", include_str!("../../migrations/sqlite/0012_staff_sso.sql")),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (1, "tickets", include_str!("../../migrations/postgres/0001_tickets.sql")),
    (2, "staff", include_str!("../../migrations/postgres/0002_staff.sql")),
    (3, "reliability", include_str!("../../migrations/postgres/0003_reliability.sql")),
    (4, "scale", include_str!("../../migrations/postgres/0004_scale.sql")),
    (5, "retention", include_str!("../../migrations/postgres/0005_retention.sql")),
    (6, "incidents", include_str!("../../migrations/postgres/0006_incidents.sql")),
    (7, "privacy", include_str!("../../migrations/postgres/0007_privacy.sql")),
    (8, "recipients", include_str!("../../migrations/postgres/0008_recipients.sql")),
    (9, "web security", include_str!("../../migrations/postgres/0009_web_security.sql")),
    (10, "alerts", include_str!("../../migrations/postgres/0010_alerts.sql")),
    (11, "erasure", include_str!("../../migrations/postgres/0011_erasure.sql")),
    (12, "staff sso", include_str!("../../migrations/postgres/0012_staff_sso.sql")),
];

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, sql.into_sql_str(), false))
            .collect(),
    )
}

/// Holds `<database>.migrate.lock` while migrations run, waiting (at most a minute) for another
/// process that holds it; `None` for an in-memory database.
pub async fn sqlite_lock(database: &std::path::Path) -> anyhow::Result<Option<std::fs::File>> {
    use anyhow::Context as _;
    let name = database.to_string_lossy();
    if name.is_empty() || name.contains(":memory:") {
        return Ok(None);
    }
    let path = format!("{name}.migrate.lock");
    let file = super::lock_file(&path)?;
    for _ in 0..1200 {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("cannot lock {path}")),
        }
    }
    anyhow::bail!("{path} stayed locked for a minute: another process is still migrating the database")
}

pub fn sqlite() -> Migrator {
    migrator(SQLITE)
}

pub fn postgres() -> Migrator {
    migrator(POSTGRES)
}
