//! The alert checks, once a minute on one instance at a time (a lease): gather the facts, record
//! each condition when it starts and when it ends, and queue one mail for each change. Every
//! instance reads the alerts that hold, for the banner on the staff pages and the metrics.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context as _, Result};
use askama::Template;
use time::OffsetDateTime;
use tokio::sync::watch;

use super::{Condition, Facts, Finding, Schedule, evaluate};
use crate::config::AlertsConfig;
use crate::desk::message_id::MessageIds;
use crate::domain::{OutboxKind, OutboxStatus};
use crate::intake::IntakeStats;
use crate::store::{ActiveAlert, NewOutbox, Store};
use crate::text::address::EmailAddress;

/// The alerts that hold, as this instance last read them.
#[derive(Debug, Default)]
pub struct Board {
    active: RwLock<Vec<ActiveAlert>>,
}

impl Board {
    pub fn current(&self) -> Vec<ActiveAlert> {
        self.active.read().map(|a| a.clone()).unwrap_or_default()
    }

    fn set(&self, alerts: Vec<ActiveAlert>) {
        for c in Condition::ALL {
            let on = alerts.iter().any(|a| a.finding.condition == c);
            metrics::gauge!("routedesk_alert_active", "alert" => c.as_str()).set(if on { 1.0 } else { 0.0 });
        }
        if let Ok(mut a) = self.active.write() {
            *a = alerts;
        }
    }
}

/// Everything the checks need.
pub struct Checks {
    pub store: Store,
    pub cfg: AlertsConfig,
    pub schedule: Schedule,
    /// The intake's key in `intake_status`.
    pub intake: String,
    pub database_url: String,
    /// The helpdesk address alert mail is sent from.
    pub mailbox: String,
    pub ids: MessageIds,
    pub signature: String,
    pub dry_run: bool,
    /// When this instance started: a fresh start is neither down nor quiet.
    pub started_at: OffsetDateTime,
}

/// What one check changed.
#[derive(Debug, Default, PartialEq)]
pub struct Changes {
    pub started: Vec<Condition>,
    pub ended: Vec<Condition>,
}

#[derive(Template)]
#[template(path = "mail/alert.txt")]
struct AlertMail<'a> {
    started: bool,
    since: String,
    now: String,
    text: String,
    signature: &'a str,
}

impl Checks {
    /// The facts as of now.
    pub async fn facts(&self) -> Result<Facts> {
        let mut f = self.store.alert_facts().await?;
        let intake = self.store.intake_status(&self.intake).await?;
        f.intake_ok_at = intake.ok_at;
        f.intake_failing_since = intake.failing_since;
        f.intake_error = intake.last_error;
        f.started_at = Some(self.started_at);
        let (bytes, free) = self.store.database_size(&self.database_url).await?;
        f.database_bytes = Some(bytes);
        f.disk_free_percent = free;
        Ok(f)
    }

    /// Evaluates the facts at `now` against what is recorded: starts and ends alerts, queues a mail
    /// for each, and keeps the figures of the others current.
    pub async fn check(&self, facts: &Facts, now: OffsetDateTime) -> Result<Changes> {
        let found = evaluate(facts, &self.cfg, &self.schedule, now);
        let active = self.store.active_alerts().await?;
        let mut changes = Changes::default();
        let mut tx = self.store.begin().await?;
        for f in &found {
            match active.iter().find(|a| a.finding.condition == f.condition) {
                Some(a) => tx.update_alert(a.id, f).await?,
                None => {
                    tx.start_alert(f, now).await?;
                    self.queue(&mut tx, f, true, now, now).await?;
                    tracing::warn!(alert = %f.condition, detail = %f.text_en(), "alert started");
                    changes.started.push(f.condition);
                }
            }
        }
        for a in active.iter().filter(|a| !found.iter().any(|f| f.condition == a.finding.condition)) {
            tx.end_alert(a.id, now).await?;
            self.queue(&mut tx, &a.finding, false, a.started_at, now).await?;
            tracing::info!(alert = %a.finding.condition, "alert ended");
            changes.ended.push(a.finding.condition);
        }
        tx.commit().await?;
        Ok(changes)
    }

    async fn queue(
        &self,
        tx: &mut crate::store::Tx,
        f: &Finding,
        started: bool,
        since: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let to: Vec<EmailAddress> = self.cfg.to.iter().filter_map(|a| EmailAddress::parse(a).ok()).collect();
        if to.is_empty() {
            return Ok(());
        }
        let stamp = crate::text::time::rfc3339;
        let body =
            AlertMail { started, since: stamp(since), now: stamp(now), text: f.text_nb(), signature: &self.signature }
                .render()
                .context("rendering the alert mail")?;
        let headline = f.text_nb();
        let first = headline.split_once('.').map_or(headline.as_str(), |(s, _)| s);
        let subject =
            if started { format!("[routedesk] Varsel: {first}") } else { format!("[routedesk] I orden: {first}") };
        tx.insert_outbox(&NewOutbox {
            ticket_id: None,
            kind: OutboxKind::Alert,
            message_id: &self.ids.new_id(),
            envelope_from: &self.mailbox,
            to: &to,
            cc: &[],
            in_reply_to: None,
            report_message: None,
            subject: &subject,
            body: &body,
            status: if self.dry_run { OutboxStatus::DryRun } else { OutboxStatus::Queued },
            at: now,
        })
        .await?;
        Ok(())
    }
}

/// Runs the checks every minute (on the instance holding the `alerts` lease), and refreshes the
/// board on every instance.
pub async fn run(
    checks: Checks,
    board: Arc<Board>,
    intake: Arc<IntakeStats>,
    instance: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let now = OffsetDateTime::now_utc();
        // The intake's own words about itself, so every instance's checks see them.
        if let Err(e) = record_intake(&checks, &intake, now).await {
            tracing::warn!(error = format!("{e:#}"), "cannot record the intake's state");
        }
        match checks.store.try_lease("alerts", &instance, now, time::Duration::seconds(150)).await {
            Ok(true) => match checks.facts().await {
                Ok(facts) => {
                    if let Err(e) = checks.check(&facts, now).await {
                        tracing::error!(error = format!("{e:#}"), "alerts: the check failed");
                    }
                }
                Err(e) => tracing::error!(error = format!("{e:#}"), "alerts: cannot read the facts"),
            },
            Ok(false) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "alerts: cannot take the lease"),
        }
        match checks.store.active_alerts().await {
            Ok(a) => board.set(a),
            Err(e) => tracing::warn!(error = format!("{e:#}"), "alerts: cannot read the alerts"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(checks.cfg.check_secs.max(1))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Writes what this instance's intake knows, when it knows anything (it holds the mailbox).
async fn record_intake(checks: &Checks, intake: &IntakeStats, now: OffsetDateTime) -> Result<()> {
    if let Some(since) = intake.failing_since() {
        return checks.store.intake_failed(&checks.intake, &intake.last_error(), since.min(now)).await;
    }
    match intake.last_ok() {
        Some(ok) if intake.leader.load(std::sync::atomic::Ordering::Relaxed) => {
            checks.store.intake_ok(&checks.intake, ok).await
        }
        _ => Ok(()),
    }
}
