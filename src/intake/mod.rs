//! IMAP intake: watches the helpdesk folder and hands every mail to [`crate::desk`]. Reconnects by
//! itself after any error, with exponential backoff and jitter.

pub mod connect;
mod health;
mod mailbox;
pub mod reconcile;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::ImapConfig;
use crate::desk::Desk;
pub use health::IntakeStats;
/// The keyword that marks processed mail left in the helpdesk folder (servers without MOVE or UIDPLUS).
pub(crate) use mailbox::DONE_KEYWORD;

/// How long a lease lasts, and how often its holder renews it: a dead holder's mailbox is taken
/// over within `LEASE_TTL`.
pub const LEASE_TTL: time::Duration = time::Duration::seconds(10);
pub const LEASE_RENEW: Duration = Duration::from_secs(3);

/// The mailbox and folder an intake watches, as it is named in leases and in its recorded state.
pub fn key(cfg: &ImapConfig) -> String {
    format!("{}:{}", cfg.user, cfg.folder)
}

/// Watches the mailbox until `shutdown` turns true — while this instance holds the mailbox's lease.
pub async fn run(
    cfg: ImapConfig,
    login: connect::Login,
    desk: Desk,
    stats: Arc<IntakeStats>,
    holder: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let lease = format!("imap:{}", key(&cfg));
    let store = desk.store().clone();
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            let _ = store.release_lease(&lease, &holder).await;
            return;
        }
        match store.try_lease(&lease, &holder, time::OffsetDateTime::now_utc(), LEASE_TTL).await {
            Ok(true) => {}
            Ok(false) => {
                // Another instance polls this mailbox; stand by and try again. What this instance
                // saw fail before is not the intake's state any more.
                stats.leader.store(false, Ordering::Relaxed);
                stats.standing_by();
                tokio::select! {
                    _ = tokio::time::sleep(LEASE_RENEW / 2) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "cannot take the mailbox lease");
                tokio::select! {
                    _ = tokio::time::sleep(backoff(failures.max(1))) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
        }
        stats.leader.store(true, Ordering::Relaxed);
        // The session stops when routedesk stops or when the lease is lost.
        let (stop_tx, mut stop) = watch::channel(false);
        let keeper = tokio::spawn(keep_lease(
            store.clone(),
            lease.clone(),
            holder.clone(),
            stats.clone(),
            shutdown.clone(),
            stop_tx,
        ));
        stats.expect_within(connect::deadline(&cfg) * 4);
        let result = match connect::connect(&cfg, &login).await {
            Ok(session) => {
                stats.succeeded();
                let watch =
                    mailbox::FolderSession { cfg: &cfg, desk: &desk, stats: &stats, lease: &lease, holder: &holder };
                let r = watch
                    .run(session, &mut stop, || {
                        failures = 0;
                        stats.connected.store(true, Ordering::Relaxed);
                    })
                    .await;
                stats.connected.store(false, Ordering::Relaxed);
                r
            }
            Err(e) => Err(e),
        };
        keeper.abort();
        stats.leader.store(false, Ordering::Relaxed);
        match result {
            Ok(()) if *shutdown.borrow() => {
                let _ = store.release_lease(&lease, &holder).await;
                return;
            }
            Ok(()) => {
                tracing::warn!("the mailbox lease was lost, or the session stalled; standing by");
                stats.failed("the IMAP session stalled or the mailbox lease was lost");
                continue;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
                stats.failed(&format!("{e:#}"));
                // Another instance, whose way to the server may work, can take over meanwhile.
                let _ = store.release_lease(&lease, &holder).await;
                let delay = backoff(failures);
                tracing::warn!(
                    error = format!("{e:#}"),
                    retry_in_ms = delay.as_millis() as u64,
                    "IMAP intake interrupted"
                );
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// The instance's heartbeat: a lease `instance:ID` renewed until shutdown, then released. Other
/// instances take over this one's claimed mail when it stops beating.
pub async fn heartbeat(store: crate::store::Store, holder: String, mut shutdown: watch::Receiver<bool>) {
    let name = format!("instance:{holder}");
    loop {
        if let Err(e) = store.try_lease(&name, &holder, time::OffsetDateTime::now_utc(), LEASE_TTL).await {
            tracing::warn!(error = format!("{e:#}"), "cannot renew the instance heartbeat");
        }
        tokio::select! {
            _ = tokio::time::sleep(LEASE_RENEW) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            let _ = store.release_lease(&name, &holder).await;
            return;
        }
    }
}

/// Renews the lease until shutdown, while the session makes progress; signals `stop` when
/// shutting down, when the lease is lost, or when the session is stalled (a stalled session must
/// not keep the mailbox from another instance).
async fn keep_lease(
    store: crate::store::Store,
    lease: String,
    holder: String,
    stats: Arc<IntakeStats>,
    mut shutdown: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LEASE_RENEW) => {}
            _ = shutdown.changed() => {
                let _ = stop.send(true);
                return;
            }
        }
        if *shutdown.borrow() {
            let _ = stop.send(true);
            return;
        }
        if !stats.making_progress() {
            tracing::warn!("the IMAP session is overdue; the mailbox lease is not renewed");
            let _ = stop.send(true);
            return;
        }
        match store.try_lease(&lease, &holder, time::OffsetDateTime::now_utc(), LEASE_TTL).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = stop.send(true);
                return;
            }
            // A database that does not answer cannot take mail in either; the session fails on its own.
            Err(e) => tracing::warn!(error = format!("{e:#}"), "cannot renew the mailbox lease"),
        }
    }
}

/// 0.5 s doubling, with ±25 % jitter, never over 60 s: a server back after a long outage is
/// found within a minute.
fn backoff(failures: u32) -> Duration {
    let base = 0.5 * f64::from(2u32.saturating_pow(failures.saturating_sub(1).min(10)));
    Duration::from_secs_f64((base * (0.75 + fastrand::f64() * 0.5)).min(MAX_BACKOFF_SECS))
}

const MAX_BACKOFF_SECS: f64 = 60.0;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn backoff_grows_with_jitter_and_never_passes_a_minute() {
        for _ in 0..1000 {
            let first = super::backoff(1);
            assert!(first >= Duration::from_millis(375) && first <= Duration::from_millis(625), "{first:?}");
            let third = super::backoff(3);
            assert!(third >= Duration::from_millis(1500) && third <= Duration::from_millis(2500), "{third:?}");
            for n in [8, 9, 20, u32::MAX] {
                assert!(super::backoff(n) <= Duration::from_secs(60), "{n} failures");
            }
        }
        assert!((0..100).any(|_| super::backoff(8) < Duration::from_secs(60)), "jitter below the cap too");
    }
}
