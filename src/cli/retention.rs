//! `routedesk purge`, `routedesk export` and `routedesk erase`.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::config::Config;
use crate::policy::Policy;
use crate::store::{AuditEntry, Store};
use crate::web::audit::Action;

pub async fn purge(config: Option<PathBuf>, dry_run: bool) -> Result<()> {
    let cfg = Config::load(config.as_deref())?;
    let policy = Policy::load_or_default(cfg.policy.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    let actor = format!("routedesk purge ({})", whoami());
    let now = time::OffsetDateTime::now_utc();
    let done = crate::retention::purge(&store, policy.retention, now, &actor, dry_run).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!(
        "{verb} the personal data of {} resolved tickets, {} tickets never resolved and {} set-aside mails",
        done.tickets.len(),
        done.open.len(),
        done.set_aside
    );
    for n in done.tickets.iter().chain(&done.open) {
        println!("  {n}");
    }
    store.close().await;
    Ok(())
}

pub async fn export(config: Option<PathBuf>, person: String) -> Result<()> {
    let cfg = Config::load(config.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    let data = crate::retention::export(&store, &person).await?;
    let json = serde_json::to_string_pretty(&data).context("writing JSON")?;
    // Handed out only once the audit log has it.
    audited(&store, "routedesk export", Action::Export, &person, "ok").await?;
    println!("{json}");
    store.close().await;
    Ok(())
}

pub async fn erase(config: Option<PathBuf>, person: String, dry_run: bool) -> Result<()> {
    let cfg = Config::load(config.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    let actor = format!("routedesk erase ({})", whoami());
    let done = crate::retention::erase(&cfg, &store, &person, &actor, dry_run).await;
    let result = match &done {
        Ok(d) if dry_run => format!("dry run: {} tickets", d.store.tickets.len()),
        Ok(d) => format!("ok: {} tickets, {} copies in the mailbox", d.store.tickets.len(), d.mailbox),
        Err(e) => format!("failed: {e}"),
    };
    let logged = audited(&store, "routedesk erase", Action::Erase, &person, &result).await;
    store.close().await;
    let done = done?;
    logged?;
    let verb = if dry_run { "would remove" } else { "removed" };
    println!(
        "{verb} the data of {}: {} tickets reported, {} mails emptied, {} mails sent to them, {} other records \
         naming them, {} copies in the helpdesk mailbox",
        done.person,
        done.store.tickets.len(),
        done.store.messages,
        done.store.sent_to,
        done.store.mentions,
        done.mailbox
    );
    for n in &done.store.tickets {
        println!("  {n}");
    }
    Ok(())
}

/// Writes the command's audit row. The person is named by a fingerprint of their address, so the
/// log keeps no personal data after an erasure, yet repeated requests about one person can be told apart.
async fn audited(store: &Store, command: &str, action: Action, person: &str, result: &str) -> Result<()> {
    let actor = format!("{command} ({})", whoami());
    let object = format!("person {}", crate::web::limiter::fingerprint(person));
    let entry = AuditEntry { actor: &actor, action: action.as_str(), object: &object, result, address: None };
    store.audit(&entry, time::OffsetDateTime::now_utc()).await.context("writing the audit log")
}

/// Who ran the command, for the record.
fn whoami() -> String {
    std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown user".into())
}
