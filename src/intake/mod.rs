//! IMAP intake: watches the helpdesk folder and hands every mail to [`crate::ingest`]. Reconnects by
//! itself after any error, with exponential backoff and jitter.

pub mod connect;
mod mailbox;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::config::ImapConfig;
use crate::ingest::Ingestor;

/// Counters others may read (health, metrics).
#[derive(Debug, Default)]
pub struct IntakeStats {
    pub reconnects: AtomicU64,
    pub connected: std::sync::atomic::AtomicBool,
}

/// Watches the mailbox until `shutdown` turns true.
pub async fn run(cfg: ImapConfig, ingestor: Ingestor, stats: Arc<IntakeStats>, mut shutdown: watch::Receiver<bool>) {
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let result = match connect::connect(&cfg).await {
            Ok(session) => {
                let watch = mailbox::Watch { cfg: &cfg, ingestor: &ingestor };
                let r = watch
                    .run(session, &mut shutdown, || {
                        failures = 0;
                        stats.connected.store(true, Ordering::Relaxed);
                    })
                    .await;
                stats.connected.store(false, Ordering::Relaxed);
                r
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => return,
            Err(e) => {
                failures = failures.saturating_add(1);
                stats.reconnects.fetch_add(1, Ordering::Relaxed);
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

/// 0.5 s doubling to at most 60 s, with ±25 % jitter.
fn backoff(failures: u32) -> Duration {
    let base = 0.5 * f64::from(2u32.saturating_pow(failures.saturating_sub(1).min(10)));
    Duration::from_secs_f64(base.min(60.0) * (0.75 + fastrand::f64() * 0.5))
}
