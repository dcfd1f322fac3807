//! Migrations, embedded in the binary and applied at start-up. One folder per backend, with the same
//! versions in both.

use sqlx::migrate::Migrator;

/// Every file of each folder, in version order. Versions, descriptions and checksums are those
/// recorded by databases migrated before the list was read from the folders.
static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

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

pub fn sqlite() -> &'static Migrator {
    &SQLITE
}

pub fn postgres() -> &'static Migrator {
    &POSTGRES
}

#[cfg(test)]
mod tests {
    use sqlx::migrate::Migrator;

    /// The versions named by the files of a migrations folder (`0007_privacy.sql` → 7).
    fn file_versions(folder: &str) -> Vec<i64> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
        let mut versions: Vec<i64> = entries
            .map(|e| {
                let name = e.expect("a folder entry").file_name().to_string_lossy().into_owned();
                let version = name.split('_').next().and_then(|v| v.parse().ok());
                version.unwrap_or_else(|| panic!("{folder}/{name} is not named <version>_<description>.sql"))
            })
            .collect();
        versions.sort_unstable();
        versions
    }

    fn versions(m: &Migrator) -> Vec<i64> {
        m.iter().map(|m| m.version).collect()
    }

    #[test]
    fn every_file_is_a_migration_and_both_databases_have_the_same() {
        let sqlite = file_versions("migrations/sqlite");
        let postgres = file_versions("migrations/postgres");
        assert_eq!(versions(super::sqlite()), sqlite, "a file in migrations/sqlite is not applied");
        assert_eq!(versions(super::postgres()), postgres, "a file in migrations/postgres is not applied");
        assert_eq!(sqlite, postgres, "both databases need the same migrations");
    }
}
