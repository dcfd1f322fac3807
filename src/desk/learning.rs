//! Triage that learns from staff: a reclassification, a privacy flag or a municipality change in
//! the web view is kept as a training example (the report's features, the label, who, when), and
//! the model in use is retrained from the shipped corpus and the region's corrections — at once on
//! the instance where staff corrected, within [`EVERY`] on every other instance of the same
//! database. Staff see what was learned and can undo a wrong correction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Desk;
use crate::grouping::Features;
use crate::pipeline::learn::eval::Standing;
use crate::pipeline::learn::{Correction, own_features};
use crate::store::{Example, Tx};

/// How often an instance looks for corrections made on another.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// What the model in use was trained on, and how it stands.
#[derive(Debug, Clone, Default)]
pub struct Trained {
    /// The examples' version it was trained on ([`crate::store::Store::examples_version`]).
    pub version: (i64, i64, i64),
    pub at: Option<OffsetDateTime>,
    /// The corrections it learned from (the newest of each kind per ticket), which its standing is
    /// measured with.
    pub learned_from: Arc<Vec<(Features, Correction)>>,
    /// How it does on the shipped reports it has not seen; `None` until measured.
    pub standing: Option<Standing>,
}

#[derive(Default)]
pub struct LearningState {
    trained: Mutex<Trained>,
    measuring: Mutex<bool>,
    retrain: tokio::sync::Notify,
}

impl Desk {
    /// The features of a ticket's report, as the model reads them; `None` when its mail is gone
    /// (purged) or cannot be read.
    async fn ticket_features(&self, tx: &mut Tx, ticket: i64) -> Result<Option<Features>> {
        let Some(mail) = tx.opening_message(ticket).await? else { return Ok(None) };
        if mail.raw.is_empty() {
            return Ok(None);
        }
        Ok(crate::pipeline::parse::parse(&mail.raw, &self.limits)
            .ok()
            .map(|m| own_features(&m.subject, &m.own_text, &self.policy)))
    }

    /// Keeps a staff correction as a training example, in the action's transaction; the caller
    /// calls [`Desk::corrected`] once it is committed.
    pub(super) async fn keep_correction(
        &self,
        tx: &mut Tx,
        ticket: i64,
        correction: Correction,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        if self.policy.learned.is_none() {
            return Ok(());
        }
        if let Some(features) = self.ticket_features(tx, ticket).await? {
            tx.record_example(ticket, &correction, &features, actor, at).await?;
        }
        Ok(())
    }

    /// A correction was committed: retrain now rather than at the next look.
    pub(super) fn corrected(&self) {
        self.learning.retrain.notify_one();
    }

    /// Undoes a correction: it stays listed, and the model is retrained without it.
    pub async fn undo_correction(&self, id: i64, actor: &str) -> Result<bool> {
        let undone = self.store.undo_example(id, actor, OffsetDateTime::now_utc()).await?;
        if undone {
            self.corrected();
        }
        Ok(undone)
    }

    /// The corrections that train (the newest of each kind per ticket, none undone).
    pub async fn corrections_in_use(&self) -> Result<Vec<(Features, Correction)>> {
        Ok(latest(self.store.examples().await?))
    }

    /// What the model in use learned from.
    pub fn trained(&self) -> Trained {
        self.learning.trained.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Retrains the model when the corrections changed since it was trained; `true` if it did.
    pub async fn retrain_if_changed(&self) -> Result<bool> {
        let Some(learned) = self.policy.learned.clone() else { return Ok(false) };
        let version = self.store.examples_version().await?;
        if version == self.trained().version {
            return Ok(false);
        }
        let corrections = Arc::new(latest(self.store.examples().await?));
        let (policy, given) = (self.policy.clone(), corrections.clone());
        let count = corrections.len();
        let model = tokio::task::spawn_blocking(move || policy.train(&given))
            .await
            .context("training the model")?
            .map_err(|e| anyhow::anyhow!("training the model: {e}"))?;
        learned.model.replace(Arc::new(model));
        *self.learning.trained.lock().unwrap_or_else(|e| e.into_inner()) =
            Trained { version, at: Some(OffsetDateTime::now_utc()), learned_from: corrections, standing: None };
        tracing::info!(corrections = count, "the classifier was retrained with the region's corrections");
        Ok(true)
    }

    /// Measures the model in use (cross-validated on the shipped reports, with the corrections in
    /// every fold's training), once per training, in the background; the learning page shows it
    /// when done.
    pub fn measure_in_background(&self) {
        let Some(learned) = self.policy.learned.clone() else { return };
        {
            let mut busy = self.learning.measuring.lock().unwrap_or_else(|e| e.into_inner());
            if *busy || self.trained().standing.is_some() {
                return;
            }
            *busy = true;
        }
        let desk = self.clone();
        tokio::spawn(async move {
            let Trained { version, learned_from, .. } = desk.trained();
            let policy = desk.policy.clone();
            let measured = tokio::task::spawn_blocking(move || -> Result<Standing> {
                let corpus = crate::pipeline::learn::corpus::shipped().map_err(anyhow::Error::msg)?;
                Ok(crate::pipeline::learn::eval::standing(&corpus, &learned_from, 5, learned.thresholds, &policy))
            })
            .await
            .context("measuring the model")
            .and_then(|m| m);
            match measured {
                Ok(s) => {
                    let mut t = desk.learning.trained.lock().unwrap_or_else(|e| e.into_inner());
                    if t.version == version {
                        t.standing = Some(s);
                    }
                }
                Err(e) => tracing::error!(error = format!("{e:#}"), "the classifier could not be measured"),
            }
            *desk.learning.measuring.lock().unwrap_or_else(|e| e.into_inner()) = false;
        });
    }
}

/// The newest correction of each kind per ticket: a ticket reclassified twice teaches its last
/// class only.
fn latest(examples: Vec<Example>) -> Vec<(Features, Correction)> {
    let mut newest: HashMap<(i64, std::mem::Discriminant<Correction>), (Features, Correction)> = HashMap::new();
    let mut order = Vec::new();
    for e in examples {
        let key = (e.ticket_id, std::mem::discriminant(&e.correction));
        if newest.insert(key, (e.features, e.correction)).is_none() {
            order.push(key);
        }
    }
    order.into_iter().filter_map(|k| newest.remove(&k)).collect()
}

/// Retrains when corrections change: at once when staff correct on this instance, and every
/// `every` ([`EVERY`] in the service) for corrections made on another.
pub async fn learn_loop(desk: Desk, every: std::time::Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = desk.retrain_if_changed().await {
            tracing::error!(error = format!("{e:#}"), "the classifier could not be retrained");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = desk.learning.retrain.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
