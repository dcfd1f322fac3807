//! The audit log: who signed in (or failed to), who was refused what, who viewed which report,
//! file or privacy case. Append-only: this file has the only statements that touch the table, an
//! INSERT and a SELECT, and the database refuses UPDATE and DELETE on it.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Store;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub result: String,
    pub address: Option<String>,
}

/// One entry to record. Never a secret in any field.
#[derive(Debug, Clone, Copy)]
pub struct AuditEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object: &'a str,
    pub result: &'a str,
    pub address: Option<&'a str>,
}

impl Store {
    pub async fn audit(&self, e: &AuditEntry<'_>, at: OffsetDateTime) -> Result<()> {
        const SQL: &str =
            "INSERT INTO audit_log (at, actor, action, object, result, address) VALUES ($1, $2, $3, $4, $5, $6)";
        db!(self, execute, SQL, at, e.actor, e.action, e.object, e.result, e.address)
            .map(drop)
            .context("writing the audit log")
    }

    /// The newest `limit` entries, newest first.
    pub async fn audit_recent(&self, limit: i64) -> Result<Vec<AuditRow>> {
        const SQL: &str =
            "SELECT id, at, actor, action, object, result, address FROM audit_log ORDER BY id DESC LIMIT $1";
        db!(self, fetch_all, SQL, limit).context("reading the audit log")
    }
}
