//! Staff corrections kept as training examples for the classifier (see
//! `migrations/*/0020_training_examples.sql`): the report's features, the label, who and when.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::{Store, Tx};
use crate::grouping::Features;
use crate::pipeline::learn::Correction;

/// A correction as the learning page lists it.
#[derive(Debug, Clone)]
pub struct ExampleRow {
    pub id: i64,
    pub ticket: String,
    pub correction: Correction,
    pub actor: String,
    pub created_at: OffsetDateTime,
    pub undone_at: Option<OffsetDateTime>,
    pub undone_by: Option<String>,
}

/// A correction that trains: the ticket it is about, the label and the features.
#[derive(Debug, Clone)]
pub struct Example {
    pub ticket_id: i64,
    pub correction: Correction,
    pub features: Features,
}

type Listed = (i64, String, String, String, String, OffsetDateTime, Option<OffsetDateTime>, Option<String>);

impl Store {
    /// Every correction not undone, oldest first.
    pub async fn examples(&self) -> Result<Vec<Example>> {
        const SQL: &str =
            "SELECT ticket_id, kind, label, features FROM training_examples WHERE undone_at IS NULL ORDER BY id";
        let rows: Vec<(i64, String, String, String)> =
            db!(self, fetch_all, SQL).context("reading the training examples")?;
        let mut out = Vec::with_capacity(rows.len());
        for (ticket_id, kind, label, features) in rows {
            // A row this version cannot read (written by a newer one) does not stop the learning.
            let (Some(correction), Ok(features)) =
                (Correction::from_stored(&kind, &label), serde_json::from_str::<Features>(&features))
            else {
                tracing::warn!(kind, label, "a training example could not be read; it is left out");
                continue;
            };
            out.push(Example { ticket_id, correction, features });
        }
        Ok(out)
    }

    /// The newest corrections, undone ones too, newest first.
    pub async fn recent_examples(&self, limit: i64) -> Result<Vec<ExampleRow>> {
        const SQL: &str = "SELECT e.id, COALESCE(t.number, ''), e.kind, e.label, e.actor, e.created_at, \
             e.undone_at, e.undone_by FROM training_examples e LEFT JOIN tickets t ON t.id = e.ticket_id \
             ORDER BY e.id DESC LIMIT $1";
        let rows: Vec<Listed> = db!(self, fetch_all, SQL, limit).context("reading the corrections")?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, ticket, kind, label, actor, created_at, undone_at, undone_by)| {
                let correction = Correction::from_stored(&kind, &label)?;
                Some(ExampleRow { id, ticket, correction, actor, created_at, undone_at, undone_by })
            })
            .collect())
    }

    /// What changes when the examples do: the newest id, how many there are (an erasure removes
    /// some) and how many are undone. Every instance compares it with what its model was trained on.
    pub async fn examples_version(&self) -> Result<(i64, i64, i64)> {
        const SQL: &str = "SELECT COALESCE(MAX(id), 0), COUNT(*), COUNT(undone_at) FROM training_examples";
        db!(self, fetch_one, SQL).context("reading the training examples' version")
    }

    /// Undoes a correction (it stays listed); `false` if there is none such or it was undone.
    pub async fn undo_example(&self, id: i64, actor: &str, at: OffsetDateTime) -> Result<bool> {
        const SQL: &str =
            "UPDATE training_examples SET undone_at = $1, undone_by = $2 WHERE id = $3 AND undone_at IS NULL";
        let n = db!(self, execute, SQL, at, actor, id).context("undoing a correction")?;
        Ok(n == 1)
    }
}

impl Tx {
    /// Keeps a staff correction of ticket `ticket` as a training example.
    pub async fn record_example(
        &mut self,
        ticket: i64,
        correction: &Correction,
        features: &Features,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        const SQL: &str = "INSERT INTO training_examples (ticket_id, kind, label, features, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)";
        let (kind, label) = correction.to_stored();
        let features = serde_json::to_string(features).context("writing a training example's features")?;
        db!(self, execute, SQL, ticket, kind, label, features, actor, at).context("keeping a correction")?;
        Ok(())
    }

    /// Forgets the corrections of a ticket whose reporter was erased: their features are the
    /// person's words.
    pub(super) async fn forget_examples(&mut self, ticket: i64) -> Result<()> {
        const SQL: &str = "DELETE FROM training_examples WHERE ticket_id = $1";
        db!(self, execute, SQL, ticket).context("forgetting an erased ticket's corrections")?;
        Ok(())
    }
}
