//! `routedesk audit`: the newest audit-log entries, one per line.

use anyhow::Result;

use crate::config::Config;
use crate::store::Store;

pub async fn list(config: Option<std::path::PathBuf>, limit: i64) -> Result<()> {
    let cfg = Config::load(config.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    let rows = store.audit_recent(limit.clamp(1, 100_000)).await?;
    for r in rows {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            crate::text::time::rfc3339(r.at),
            r.actor,
            r.action,
            r.object,
            r.result,
            r.address.unwrap_or_default()
        );
    }
    store.close().await;
    Ok(())
}
