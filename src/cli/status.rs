//! `routedesk status`: one screen for an operator — the intake, the outbox, the alerts, the
//! database — read from the database the instances share, so it works from any machine.

use std::path::PathBuf;

use anyhow::Result;
use time::OffsetDateTime;

use crate::config::Config;
use crate::store::Store;

pub async fn run(config: Option<PathBuf>) -> Result<bool> {
    let cfg = Config::load(config.as_deref())?;
    let store = Store::connect(&cfg.database_url).await?;
    let now = OffsetDateTime::now_utc();
    let ago = |t: Option<OffsetDateTime>| match t {
        Some(t) => format!("{} ({} ago)", crate::text::time::rfc3339(t), human((now - t).whole_seconds())),
        None => "never".to_string(),
    };
    let key = crate::intake::key(&cfg.imap);
    let intake = store.intake_status(&key).await?;
    let holder = store.lease_holder(&format!("imap:{key}"), now).await?;
    let instances = store.live_instances(now).await?;
    let facts = store.alert_facts().await?;
    let (bytes, free) = store.database_size(&cfg.database_url).await?;
    let alerts = store.active_alerts().await?;

    println!("routedesk {}", env!("CARGO_PKG_VERSION"));
    println!(
        "database    {} ({}{})",
        store.backend(),
        megabytes(bytes),
        free.map_or_else(String::new, |p| format!(", {p:.1} % of its disk free"))
    );
    println!("instances   {instances} running");
    println!("intake      {} {}", cfg.imap.user, cfg.imap.folder);
    println!("  held by   {}", holder.as_deref().unwrap_or("no instance"));
    println!("  last ok   {}", ago(intake.ok_at));
    if let Some(since) = intake.failing_since {
        println!("  failing   since {}: {}", ago(Some(since)), intake.last_error);
    }
    println!("  last mail {}", ago(facts.last_mail_at));
    match facts.oldest_queued_at {
        Some(oldest) => println!("outbox      {} queued, the oldest since {}", facts.queued, ago(Some(oldest))),
        None => println!("outbox      nothing queued"),
    }
    println!(
        "  failed    {} in the last 24 h{}",
        facts.failed_recently,
        if facts.failed_recently > 0 { format!(": {}", facts.last_failure) } else { String::new() }
    );
    if alerts.is_empty() {
        println!("alerts      none");
    } else {
        println!("alerts      {}", alerts.len());
        for a in &alerts {
            println!("  {} since {}: {}", a.finding.condition, ago(Some(a.started_at)), a.finding.text_en());
        }
    }
    store.close().await;
    Ok(alerts.is_empty() && intake.failing_since.is_none())
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

fn human(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}
