//! The outbox worker: sends queued mail over SMTP, each with its fixed Message-ID; temporary failures
//! (4xx, lost connections) are retried with exponential backoff and jitter, permanent ones (5xx) are
//! marked failed on the ticket at once.

pub mod compose;
pub mod transport;

use std::time::Duration;

use anyhow::{Context as _, Result};
use lettre::address::Envelope;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::config::OutboxConfig;
use crate::store::{OutboxRow, Store};
use compose::{Composer, Enclosures};

/// How long a claim lasts even while its instance lives (a send hung that long is given up); a dead
/// instance's claims end with its heartbeat.
const LEASE: time::Duration = time::Duration::minutes(5);
/// The longest the worker sleeps with nothing due: mail queued by another instance (PostgreSQL)
/// and claims of an instance that died are found within this. Its own mail wakes it at once.
const IDLE_POLL: Duration = Duration::from_secs(10);
/// The shortest sleep, so a clock step or a row due "now" cannot make the loop spin.
const MIN_SLEEP: Duration = Duration::from_millis(50);
const MAX_BACKOFF_SECS: u64 = 30 * 60;

pub struct Worker {
    pub store: Store,
    pub transport: transport::Transport,
    pub composer: Composer,
    pub settings: OutboxConfig,
    /// This instance's id: its claims are valid while its heartbeat lease lives.
    pub instance: String,
}

/// How one attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    Retry,
    Failed,
}

impl Worker {
    /// Sends until `shutdown` turns true; a mail being sent is finished first.
    /// It sleeps until the next mail is due, mail is queued, or `IDLE_POLL` passes — never in a
    /// loop that does not wait.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            let wait = match self.send_next().await {
                Ok(Some(_)) => {
                    failures = 0;
                    continue;
                }
                Ok(None) => {
                    failures = 0;
                    self.until_next_due().await
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    tracing::error!(error = format!("{e:#}"), "outbox: cannot work the queue");
                    backoff(1, i64::from(failures)).min(IDLE_POLL)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait.max(MIN_SLEEP)) => {}
                _ = self.store.mail_queued() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// How long until the next queued mail may be tried (a retry's time, or a claim running out).
    async fn until_next_due(&self) -> Duration {
        match self.store.outbox_next_due().await {
            Ok(Some(at)) => Duration::try_from(at - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO).min(IDLE_POLL),
            Ok(None) => IDLE_POLL,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "outbox: cannot read when the next mail is due");
                IDLE_POLL
            }
        }
    }

    /// Claims and sends one due mail; `None` when nothing is due.
    pub async fn send_next(&self) -> Result<Option<Attempt>> {
        let now = OffsetDateTime::now_utc();
        let Some(row) = self.store.claim_outbox(now, LEASE, &self.instance).await? else { return Ok(None) };
        // Every line logged about this mail names its ticket (the number is in every subject we send).
        let ticket = crate::domain::ticket_number::tag_in(&row.subject).unwrap_or_default();
        let span = tracing::info_span!("outbox", ticket = %ticket, id = row.id, kind = %row.kind);
        Ok(Some(tracing::Instrument::instrument(self.attempt(&row), span).await?))
    }

    async fn attempt(&self, row: &OutboxRow) -> Result<Attempt> {
        // Reading the report and files can fail for a while (a busy or restarting database): that
        // is retried like a 4xx. Only a mail that can never be built fails for good.
        let enclosures = match self.enclosures(row).await {
            Ok(e) => e,
            Err(e) => return self.temporary(row, format!("cannot read the mail's report and files: {e:#}")).await,
        };
        let built = self.composer.compose(row, enclosures).and_then(|m| Ok((m, envelope(row)?)));
        let (message, envelope) = match built {
            Ok(m) => m,
            Err(e) => {
                let why = format!("cannot build the mail: {e:#}");
                self.store.outbox_failed(row, &why, OffsetDateTime::now_utc()).await?;
                metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
                return Ok(Attempt::Failed);
            }
        };
        let raw = message.formatted();
        let result = self.transport.send_raw(&envelope, &raw).await;
        let now = OffsetDateTime::now_utc();
        match result {
            Ok(_) => {
                self.store.outbox_sent(row, &raw, now).await?;
                metrics::counter!("routedesk_outbox_sent_total").increment(1);
                tracing::info!(message_id = %row.message_id, "sent");
                Ok(Attempt::Sent)
            }
            Err(e) if e.is_permanent() => {
                let why = format!("rejected: {e}");
                tracing::warn!(error = %why, "permanent delivery failure");
                self.store.outbox_failed(row, &why, now).await?;
                metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
                Ok(Attempt::Failed)
            }
            Err(e) => self.temporary(row, e.to_string()).await,
        }
    }

    /// A failure that may pass: retried with backoff, until the attempts run out.
    async fn temporary(&self, row: &OutboxRow, error: String) -> Result<Attempt> {
        let now = OffsetDateTime::now_utc();
        if row.attempts >= i64::from(self.settings.max_attempts) {
            let why = format!("gave up after {} attempts: {error}", row.attempts);
            self.store.outbox_failed(row, &why, now).await?;
            metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
            return Ok(Attempt::Failed);
        }
        let delay = backoff(self.settings.retry_secs, row.attempts);
        tracing::info!(error = %error, retry_in = delay.as_secs(), "temporary delivery failure");
        let next = now + time::Duration::try_from(delay).unwrap_or(time::Duration::minutes(30));
        self.store.outbox_retry(row, next, &error).await?;
        metrics::counter!("routedesk_outbox_failed_total", "kind" => "temporary").increment(1);
        Ok(Attempt::Retry)
    }

    async fn enclosures(&self, row: &OutboxRow) -> Result<Enclosures> {
        let mut enclosures = Enclosures::default();
        if let Some(report) = row.report_message {
            enclosures.report = self.store.message_raw(report).await?;
            if let Some(t) = row.ticket_id {
                enclosures.files = self.store.ticket_files(t).await?;
            }
        }
        Ok(enclosures)
    }
}

fn envelope(row: &OutboxRow) -> Result<Envelope> {
    let from =
        if row.envelope_from.is_empty() { None } else { Some(row.envelope_from.parse().context("envelope sender")?) };
    let to = row.recipients().map(compose::lettre_address).collect::<Result<Vec<_>>>()?;
    anyhow::ensure!(!to.is_empty(), "the mail has no valid recipient");
    Envelope::new(from, to).context("building the envelope")
}

/// `base * 2^(attempt-1)`, capped at 30 minutes, with ±25 % jitter so retries do not come in waves.
pub fn backoff(base_secs: u64, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let secs = base_secs.saturating_mul(1u64 << exp).min(MAX_BACKOFF_SECS);
    let jitter = 0.75 + fastrand::f64() * 0.5;
    Duration::from_secs_f64(secs as f64 * jitter)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        let first = backoff(5, 1).as_secs_f64();
        assert!((3.75..=6.25).contains(&first), "{first}");
        let fourth = backoff(5, 4).as_secs_f64();
        assert!((30.0..=50.0).contains(&fourth), "{fourth}");
        assert!(backoff(5, 40).as_secs_f64() <= 30.0 * 60.0 * 1.25);
    }
}
