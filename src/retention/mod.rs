//! Data retention and data subjects' requests (GDPR): the daily job and `routedesk purge` remove
//! personal data the policy no longer allows keeping; `routedesk export` gives one person's data,
//! `routedesk erase` removes it.

mod erase;
mod mailbox;

pub use erase::{Erasure, erase};

use anyhow::Result;
use serde_json::json;
use time::OffsetDateTime;

use crate::domain::event::Event;
use crate::text::time::rfc3339;
use tokio::sync::watch;

use crate::policy::Retention;
use crate::store::{Backend, Store, Unkept};

/// Tickets looked up per round.
const BATCH: i64 = 200;

/// The longest a purge holds a write transaction. On SQLite that is the only write lock, and a
/// purged ticket's words leave the search index at once (secure delete, some 10 ms each): 200 in
/// one transaction kept staff's writes, such as the record of a ticket viewed, waiting for seconds.
/// There the job also pauses as long between transactions, so those writes get their turn.
const LOCK_SLICE: std::time::Duration = std::time::Duration::from_millis(50);

/// What a retention run removed (or, dry, would remove).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    /// Resolved tickets.
    pub tickets: Vec<String>,
    /// Tickets never resolved.
    pub open: Vec<String>,
    pub set_aside: i64,
    /// Audit log entries past their time.
    pub audit_log: u64,
}

/// Removes the personal data of tickets (resolved, or never resolved) and set-aside mail older
/// than the policy allows, as of `now`; records the run. `dry_run` only reports.
pub async fn purge(store: &Store, r: Retention, now: OffsetDateTime, actor: &str, dry_run: bool) -> Result<Purged> {
    let mut out = Purged::default();
    for (kind, days) in [(Unkept::Resolved, r.resolved_days), (Unkept::NeverResolved, r.max_open_days)] {
        let Some(days) = days else { continue };
        let cutoff = now - time::Duration::days(i64::from(days));
        let why = Event::Purged { resolved: kind == Unkept::Resolved, days };
        let list = match kind {
            Unkept::Resolved => &mut out.tickets,
            Unkept::NeverResolved => &mut out.open,
        };
        loop {
            let batch = store.purge_candidates(kind, cutoff, if dry_run { i64::MAX } else { BATCH }).await?;
            let last = (batch.len() as i64) < BATCH || dry_run;
            let mut rest = if dry_run { &[][..] } else { &batch[..] };
            while !rest.is_empty() {
                let started = std::time::Instant::now();
                let mut tx = store.begin().await?;
                let mut done = 0;
                for (id, _) in rest {
                    tx.purge_ticket(*id, now, actor, &why).await?;
                    done += 1;
                    if started.elapsed() >= LOCK_SLICE {
                        break;
                    }
                }
                tx.commit().await?;
                rest = &rest[done..];
                if store.backend() == Backend::Sqlite {
                    tokio::time::sleep(LOCK_SLICE).await;
                }
            }
            list.extend(batch.into_iter().map(|(_, n)| n));
            if last {
                break;
            }
        }
    }
    if let Some(days) = r.set_aside_days {
        let cutoff = now - time::Duration::days(i64::from(days));
        out.set_aside = store.set_aside_to_purge(cutoff).await?;
        if !dry_run {
            let mut tx = store.begin().await?;
            tx.purge_set_aside(cutoff).await?;
            tx.commit().await?;
        }
    }
    if let (Some(days), false) = (r.audit_log_days, dry_run) {
        let mut tx = store.begin().await?;
        out.audit_log = tx.purge_audit_log(now - time::Duration::days(i64::from(days))).await?;
        tx.commit().await?;
    }
    if !dry_run {
        let kept = |d: Option<u32>| d.map_or("forever".to_string(), |d| format!("{d} days"));
        let detail = format!(
            "resolved tickets kept {}, tickets never resolved {}, set-aside mail {}, audit log {} ({} entries removed)",
            kept(r.resolved_days),
            kept(r.max_open_days),
            kept(r.set_aside_days),
            kept(r.audit_log_days),
            out.audit_log
        );
        let mut tx = store.begin().await?;
        let tickets = (out.tickets.len() + out.open.len()) as i64;
        tx.record_purge(now, actor, tickets, out.set_aside, &detail).await?;
        tx.commit().await?;
        store.truncate_log().await?;
    }
    Ok(out)
}

/// Runs the retention job once a day (the first a minute after start), on one instance at a time.
pub async fn daily(store: Store, r: Retention, instance: String, mut shutdown: watch::Receiver<bool>) {
    const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
    let mut wait = std::time::Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        wait = DAY;
        let now = OffsetDateTime::now_utc();
        // Another instance that ran it in the last hours holds the lease; then this one skips the day.
        match store.try_lease("retention", &instance, now, time::Duration::hours(20)).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "retention: cannot take the lease");
                continue;
            }
        }
        match purge(&store, r, now, "retention policy", false).await {
            Ok(p) => tracing::info!(
                tickets = p.tickets.len(),
                never_resolved = p.open.len(),
                set_aside = p.set_aside,
                "retention run: personal data removed"
            ),
            Err(e) => tracing::error!(error = format!("{e:#}"), "retention run failed; it runs again tomorrow"),
        }
    }
}

/// Everything routedesk holds about the person with this address (GDPR art. 15): their tickets with
/// the audit trail, and every mail from them, in full.
pub async fn export(store: &Store, address: &str) -> Result<serde_json::Value> {
    let (tickets, messages) = store.person_data(address).await?;
    let mut tickets_out = Vec::with_capacity(tickets.len());
    for t in &tickets {
        let events = store.events_of(t.id).await?;
        tickets_out.push(json!({
            "number": t.number,
            "status": t.status,
            "class": t.class,
            "municipality": t.municipality,
            "subject": t.subject,
            "reporter": t.reporter,
            "reporter_name": t.reporter_name,
            "created_at": rfc3339(t.created_at),
            "updated_at": rfc3339(t.updated_at),
            "events": events.iter().map(|e| json!({
                // Worded in bokmål, as a person reads their copy (entries are kept as data).
                "at": rfc3339(e.at), "by": e.actor, "kind": e.kind,
                "detail": crate::domain::event::detail_text(&e.detail, crate::text::lang::Lang::Nb),
            })).collect::<Vec<_>>(),
        }));
    }
    let mut messages_out = Vec::with_capacity(messages.len());
    for m in &messages {
        messages_out.push(json!({
            "received_at": rfc3339(m.received_at),
            "ticket": tickets.iter().find(|t| Some(t.id) == m.ticket_id).map(|t| &t.number),
            "verdict": m.verdict,
            "subject": m.subject,
            "mail": store.message_text(m.id).await?,
        }));
    }
    Ok(json!({
        "person": address.trim().to_lowercase(),
        "exported_at": rfc3339(OffsetDateTime::now_utc()),
        "tickets": tickets_out,
        "messages": messages_out,
    }))
}
