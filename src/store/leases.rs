//! Leases: at most one instance polls a mailbox at a time. The holder renews its lease well within
//! its lifetime; when it dies, the lease runs out and another instance takes over within seconds.
//! Also instance-wide settings, kept in the database so every instance shares them.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Db;
use super::Store;

impl Store {
    /// Takes or renews the lease `name` for `holder` until `now + ttl`; `false` while another
    /// holder's lease is still running.
    pub async fn try_lease(&self, name: &str, holder: &str, now: OffsetDateTime, ttl: time::Duration) -> Result<bool> {
        const SQL: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = $2, expires_at = $3 \
             WHERE leases.holder = $2 OR leases.expires_at < $4 RETURNING holder";
        let until = now + ttl;
        let row: Option<(String,)> = match &self.db {
            Db::Sqlite(p) => {
                let mut tx = super::tx::SqliteTx::begin(p).await?;
                let row =
                    sqlx::query_as(SQL).bind(name).bind(holder).bind(until).bind(now).fetch_optional(&mut **tx).await?;
                tx.end("COMMIT").await?;
                row
            }
            Db::Postgres(p) => {
                sqlx::query_as(SQL).bind(name).bind(holder).bind(until).bind(now).fetch_optional(p).await?
            }
        };
        Ok(row.is_some())
    }

    /// Who holds the lease `name` at `now`, if anyone.
    pub async fn lease_holder(&self, name: &str, now: OffsetDateTime) -> Result<Option<String>> {
        const SQL: &str = "SELECT holder FROM leases WHERE name = $1 AND expires_at > $2";
        let row: Option<(String,)> = db!(self, p => sqlx::query_as(SQL).bind(name).bind(now).fetch_optional(p).await)
            .context("reading a lease")?;
        Ok(row.map(|r| r.0))
    }

    /// Instances whose heartbeat lives at `now`.
    pub async fn live_instances(&self, now: OffsetDateTime) -> Result<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM leases WHERE name LIKE 'instance:%' AND expires_at > $1";
        let (n,): (i64,) =
            db!(self, p => sqlx::query_as(SQL).bind(now).fetch_one(p).await).context("counting instances")?;
        Ok(n)
    }

    /// Gives a lease up (on a clean stop), so another instance need not wait for it to run out.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        const SQL: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";
        db!(self, p => sqlx::query(SQL).bind(name).bind(holder).execute(p).await.map(|_| ()))
            .context("releasing a lease")
    }

    /// Forgets every lease: only for SQLite at start, where the instance lock proves that whoever
    /// held them is gone (so a restart after a crash need not wait for them to run out).
    pub async fn clear_leases(&self) -> Result<()> {
        if let Db::Sqlite(p) = &self.db {
            sqlx::query("DELETE FROM leases").execute(p).await.context("clearing leases")?;
        }
        Ok(())
    }

    /// A setting, created with `make()` by the first instance that needs it (all then agree).
    pub async fn setting_or_insert(&self, name: &str, make: impl FnOnce() -> String) -> Result<String> {
        const INSERT: &str = "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        const SELECT: &str = "SELECT value FROM settings WHERE name = $1";
        let value = make();
        db!(self, execute, INSERT, name, &value).context("writing a setting")?;
        let (value,): (String,) = db!(self, fetch_one, SELECT, name).context("reading a setting")?;
        Ok(value)
    }

    /// A setting's value, if set.
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        const SQL: &str = "SELECT value FROM settings WHERE name = $1";
        let row: Option<(String,)> =
            db!(self, p => sqlx::query_as(SQL).bind(name).fetch_optional(p).await).context("reading a setting")?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        const SQL: &str =
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2";
        db!(self, p => sqlx::query(SQL).bind(name).bind(value).execute(p).await.map(drop)).context("writing a setting")
    }

    /// For SQLite files: a lock next to the database, held while `serve` runs, so a second
    /// instance on the same file is refused with a clear message (SQLite is single-instance;
    /// run several instances on PostgreSQL). `None` for PostgreSQL and in-memory databases.
    pub fn single_instance_lock(&self, url: &str) -> Result<Option<std::fs::File>> {
        let Db::Sqlite(_) = &self.db else { return Ok(None) };
        let Some(path) = super::sqlite_path(url) else { return Ok(None) };
        let lock_path = format!("{path}.lock");
        let file = super::lock_file(&lock_path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                "another `routedesk serve` is already running on {path} (lock {lock_path}); SQLite allows one instance — \
                 stop the other one, or use PostgreSQL to run several"
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {lock_path}")),
        }
    }
}
