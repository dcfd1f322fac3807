//! The outbox worker: sends queued mail over SMTP, each with its fixed Message-ID; temporary failures
//! (4xx, lost connections) are retried with exponential backoff and jitter, permanent ones (5xx) are
//! marked failed on the ticket at once.

pub mod compose;
pub mod domains;
mod end_of_data;
pub mod transport;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use lettre::address::Envelope;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::config::OutboxConfig;
use crate::store::{OutboxRow, SentMail, Store};
use compose::{Composer, Enclosures};
use domains::Domains;

/// How long a claim lasts even while its instance lives (a send hung that long is given up); a dead
/// instance's claims end with its heartbeat.
const LEASE: time::Duration = time::Duration::minutes(5);
/// The longest the worker sleeps with nothing due: mail queued by another instance (PostgreSQL)
/// and claims of an instance that died are found within this. Its own mail wakes it at once.
const IDLE_POLL: Duration = Duration::from_secs(10);
/// The shortest sleep, so a clock step or a row due "now" cannot make the loop spin.
const MIN_SLEEP: Duration = Duration::from_millis(50);
const MAX_BACKOFF_SECS: u64 = 30 * 60;
/// Tries at recording a sent batch before giving up (its mails are then sent again after the
/// claim runs out, with the same Message-IDs).
const RECORD_TRIES: u32 = 5;

/// The outbox: `sessions` workers, each claiming a small batch, sending it over its own SMTP
/// session and recording the batch in one transaction.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    transport: transport::Transport,
    composer: Composer,
    settings: OutboxConfig,
    /// This instance's id: its claims are valid while its heartbeat lease lives.
    instance: String,
    domains: Domains,
}

/// How one attempt ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Accepted by the server, as these bytes.
    Sent(Vec<u8>),
    /// To be tried again after this long.
    Retry(Duration),
    Failed,
    /// Put back untried: its domain is resting after a "try later".
    Deferred,
    /// Not ours any more: another instance took the claim over while this one stalled.
    TakenOver,
}

impl Worker {
    pub fn new(
        store: Store,
        transport: transport::Transport,
        composer: Composer,
        settings: OutboxConfig,
        instance: String,
    ) -> Worker {
        let domains = Domains::new(settings.per_domain);
        Worker { inner: Arc::new(Inner { store, transport, composer, settings, instance, domains }) }
    }

    /// Sends until `shutdown` turns true, with `sessions` workers; each finishes its batch first.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..self.inner.settings.sessions.max(1) {
            lanes.spawn(self.clone().lane(lane, shutdown.clone()));
        }
        while lanes.join_next().await.is_some() {}
    }

    /// One worker. It sleeps until the next mail is due, mail is queued, or `IDLE_POLL` passes —
    /// never in a loop that does not wait.
    async fn lane(self, lane: u32, mut shutdown: watch::Receiver<bool>) {
        let store = &self.inner.store;
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                return;
            }
            if lane > 0 {
                // While the intake drains a backlog, one session sends and the others wait.
                tokio::select! {
                    _ = store.backlog_recorded() => {}
                    // Told to stop, or nobody left to tell it (which must not spin this loop).
                    changed = shutdown.changed() => match changed {
                        Ok(()) => continue,
                        Err(_) => return,
                    },
                }
            }
            let wait = match self.send_batch().await {
                Ok(n) if n > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
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
                _ = store.mail_queued() => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// How long until the next queued mail may be tried (a retry's time, or a claim running out).
    async fn until_next_due(&self) -> Duration {
        match self.inner.store.outbox_next_due().await {
            Ok(Some(at)) => Duration::try_from(at - OffsetDateTime::now_utc()).unwrap_or(Duration::ZERO).min(IDLE_POLL),
            Ok(None) => IDLE_POLL,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "outbox: cannot read when the next mail is due");
                IDLE_POLL
            }
        }
    }

    /// Claims a batch of due mail and sends it; the number claimed (0: nothing was due).
    pub async fn send_batch(&self) -> Result<usize> {
        let Inner { store, settings, instance, .. } = &*self.inner;
        let now = OffsetDateTime::now_utc();
        let rows = store.claim_outbox(now, LEASE, instance, i64::from(settings.batch.max(1))).await?;
        if rows.len() >= usize::try_from(settings.batch).unwrap_or(usize::MAX) {
            // More may be waiting: let another worker take the next batch meanwhile.
            store.wake_outbox();
        }
        if !rows.is_empty() {
            crate::faults::reached(crate::faults::Point::ClaimedNotSent);
        }
        let mut sent = Vec::with_capacity(rows.len());
        let mut trouble = None;
        for row in &rows {
            // Every line logged about this mail names its ticket (the number is in every subject we send).
            let ticket = crate::domain::ticket_number::tag_in(&row.subject).unwrap_or_default();
            let span = tracing::info_span!("outbox", ticket = %ticket, id = row.id, kind = %row.kind);
            match tracing::Instrument::instrument(self.attempt(row), span).await {
                Ok(Attempt::Sent(raw)) => sent.push(SentMail { row, raw }),
                Ok(_) => {}
                // What was sent is still recorded below; this mail's claim runs out and it is tried again.
                Err(e) => trouble = Some(e),
            }
        }
        self.record(&sent).await?;
        match trouble {
            Some(e) => Err(e),
            None => Ok(rows.len()),
        }
    }

    /// Records a sent batch, trying again for a while if the database is briefly away.
    async fn record(&self, sent: &[SentMail<'_>]) -> Result<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let mut tries = 0;
        loop {
            tries += 1;
            match self.inner.store.outbox_sent(sent, OffsetDateTime::now_utc()).await {
                Ok(()) => break,
                Err(e) if tries < RECORD_TRIES => {
                    tracing::warn!(error = format!("{e:#}"), mails = sent.len(), "outbox: cannot record sent mail yet");
                    tokio::time::sleep(backoff(1, i64::from(tries))).await;
                }
                Err(e) => return Err(e.context("recording sent mail")),
            }
        }
        for mail in sent {
            tracing::info!(id = mail.row.id, message_id = %mail.row.message_id, "sent");
        }
        metrics::counter!("routedesk_outbox_sent_total").increment(u64::try_from(sent.len()).unwrap_or(0));
        Ok(())
    }

    async fn attempt(&self, row: &OutboxRow) -> Result<Attempt> {
        let Inner { store, transport, composer, domains, .. } = &*self.inner;
        let to = domains::of(row);
        if let Some(rest) = domains.resting(&to) {
            store.outbox_defer(row, after(rest.left), &format!("waiting for {}", rest.why)).await?;
            return Ok(Attempt::Deferred);
        }
        // Reading the report and files can fail for a while (a busy or restarting database): that
        // is retried like a 4xx. Only a mail that can never be built fails for good.
        let enclosures = match self.enclosures(row).await {
            Ok(e) => e,
            Err(e) => return self.temporary(row, format!("cannot read the mail's report and files: {e:#}")).await,
        };
        let built = composer.compose(row, enclosures).and_then(|m| Ok((m, envelope(row)?)));
        let (message, envelope) = match built {
            Ok(m) => m,
            Err(e) => {
                let why = format!("cannot build the mail: {e:#}");
                store.outbox_failed(row, &why, OffsetDateTime::now_utc()).await?;
                metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
                return Ok(Attempt::Failed);
            }
        };
        let raw = message.formatted();
        // Fencing: a worker that stalled past its lease (and whose mail another instance took over
        // meanwhile) must not send it a second time when it wakes up.
        if !store.outbox_still_claimed(row.id, &self.inner.instance).await? {
            tracing::warn!("outbox: claim taken over by another instance while this one stalled; not sending");
            return Ok(Attempt::TakenOver);
        }
        let result = {
            let _passage = domains.enter(&to).await;
            transport.send_raw(&envelope, &raw).await
        };
        let now = OffsetDateTime::now_utc();
        match result {
            Ok(()) => {
                crate::faults::reached(crate::faults::Point::AcceptedNotRecorded);
                domains.recovered(&to);
                Ok(Attempt::Sent(raw))
            }
            Err(e) if e.is_permanent() => {
                let why = format!("rejected: {e}");
                tracing::warn!(error = %why, "permanent delivery failure");
                store.outbox_failed(row, &why, now).await?;
                metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
                Ok(Attempt::Failed)
            }
            Err(e) => {
                let why = e.to_string();
                if e.may_have_arrived() {
                    // Sent again with the same Message-ID; staff see it may have arrived twice.
                    store.outbox_maybe_sent(row.id).await?;
                }
                let attempt = self.temporary(row, why.clone()).await?;
                // The rest of the domain's mail waits as long as this one, instead of each being
                // refused in turn.
                // It ends just before this mail's own retry, so that one is not held up by it.
                if let Attempt::Retry(after) = attempt {
                    domains.rest(&to, after.saturating_sub(MIN_SLEEP), &why);
                }
                Ok(attempt)
            }
        }
    }

    /// A failure that may pass: retried with backoff, until the attempts run out.
    async fn temporary(&self, row: &OutboxRow, error: String) -> Result<Attempt> {
        let Inner { store, settings, .. } = &*self.inner;
        let now = OffsetDateTime::now_utc();
        if row.attempts >= i64::from(settings.max_attempts) {
            let why = format!("gave up after {} attempts: {error}", row.attempts);
            store.outbox_failed(row, &why, now).await?;
            metrics::counter!("routedesk_outbox_failed_total", "kind" => "permanent").increment(1);
            return Ok(Attempt::Failed);
        }
        let delay = backoff(settings.retry_secs, row.attempts);
        tracing::info!(error = %error, retry_in = delay.as_secs(), "temporary delivery failure");
        store.outbox_retry(row, after(delay), &error).await?;
        metrics::counter!("routedesk_outbox_failed_total", "kind" => "temporary").increment(1);
        Ok(Attempt::Retry(delay))
    }

    async fn enclosures(&self, row: &OutboxRow) -> Result<Enclosures> {
        let store = &self.inner.store;
        let mut enclosures = Enclosures::default();
        if let Some(report) = row.report_message {
            enclosures.report = store.message_raw(report).await?;
            if let Some(t) = row.ticket_id {
                enclosures.files = store.ticket_files(t).await?;
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

/// The moment `wait` from now (a wait too long to represent counts as 30 minutes, the longest
/// backoff).
fn after(wait: Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + time::Duration::try_from(wait).unwrap_or(time::Duration::minutes(30))
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
