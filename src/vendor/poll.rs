//! Polls the vendor's status page and keeps the latest answer; a failed poll keeps the previous
//! answer (and says so), so a status-page outage does not mark every report as a known issue or
//! hide one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context as _, Result};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::{Known, Summary, known_issues};

#[derive(Default)]
struct Latest {
    summary: Option<Summary>,
    fetched_at: Option<OffsetDateTime>,
    error: Option<String>,
}

/// The latest vendor status, shared by intake (known issues) and the web view (status page).
pub struct VendorStatus {
    /// `(component, product)` from the policy.
    components: Vec<(String, String)>,
    latest: RwLock<Latest>,
}

impl VendorStatus {
    pub fn new(components: Vec<(String, String)>) -> VendorStatus {
        VendorStatus { components, latest: RwLock::default() }
    }

    /// Current vendor problems touching any of `products`.
    pub fn known_for(&self, products: &[String]) -> Vec<Known> {
        let latest = self.latest.read().unwrap_or_else(|e| e.into_inner());
        let Some(s) = &latest.summary else { return vec![] };
        known_issues(s, &self.components).into_iter().filter(|k| products.contains(&k.product)).collect()
    }

    /// Every current vendor problem touching a product of ours.
    pub fn known(&self) -> Vec<Known> {
        let latest = self.latest.read().unwrap_or_else(|e| e.into_inner());
        latest.summary.as_ref().map(|s| known_issues(s, &self.components)).unwrap_or_default()
    }

    /// The latest summary, when it was fetched, and the last poll's error if it failed.
    pub fn latest(&self) -> (Option<Summary>, Option<OffsetDateTime>, Option<String>) {
        let l = self.latest.read().unwrap_or_else(|e| e.into_inner());
        (l.summary.clone(), l.fetched_at, l.error.clone())
    }

    pub fn set(&self, summary: Summary, at: OffsetDateTime) {
        let mut l = self.latest.write().unwrap_or_else(|e| e.into_inner());
        *l = Latest { summary: Some(summary), fetched_at: Some(at), error: None };
    }

    /// Fetches `url` once.
    pub async fn poll(&self, client: &reqwest::Client, url: &str) -> Result<()> {
        let result = async {
            let res = client.get(url).send().await.context("fetching the vendor's status page")?;
            let res = res.error_for_status().context("the vendor's status page answered with an error")?;
            res.json::<Summary>().await.context("reading the vendor's status page (summary.json)")
        }
        .await;
        match result {
            Ok(summary) => {
                self.set(summary, OffsetDateTime::now_utc());
                Ok(())
            }
            Err(e) => {
                self.latest.write().unwrap_or_else(|e| e.into_inner()).error = Some(format!("{e:#}"));
                Err(e)
            }
        }
    }

    /// Polls every `every` until shutdown.
    pub async fn run(self: Arc<Self>, url: String, every: Duration, mut shutdown: watch::Receiver<bool>) {
        let client = match client() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "vendor status: cannot make an HTTP client");
                return;
            }
        };
        loop {
            match self.poll(&client, &url).await {
                Ok(()) => tracing::debug!(issues = self.known().len(), "vendor status polled"),
                Err(e) => {
                    tracing::warn!(error = format!("{e:#}"), "vendor status: poll failed; keeping the last answer")
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// An HTTP client with the same TLS set-up as the rest of routedesk.
pub fn client() -> Result<reqwest::Client> {
    crate::http::client()
}
