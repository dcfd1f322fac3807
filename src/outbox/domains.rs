//! Per recipient domain: how many sessions may carry its mail at once, and a rest after its server
//! answered "try later" (4xx), so one slow municipality neither gets flooded nor holds up the rest.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::OutboxRow;

pub struct Domains {
    per_domain: usize,
    known: Mutex<HashMap<String, Domain>>,
}

struct Domain {
    sessions: Arc<Semaphore>,
    /// Mail to the domain waits until then.
    rest_until: Option<Instant>,
    /// What the server last said when it asked for the rest.
    why: String,
}

/// A rest still to be waited out.
#[derive(Debug, PartialEq, Eq)]
pub struct Rest {
    pub left: Duration,
    pub why: String,
}

/// The sessions a mail holds while it is sent; released when dropped.
pub struct Passage {
    _permits: Vec<OwnedSemaphorePermit>,
}

/// The domains a mail goes to, each once, in a fixed order (so two mails to the same domains
/// always take their permits in the same order and cannot wait on each other).
pub fn of(row: &OutboxRow) -> Vec<String> {
    let mut list: Vec<String> = row.recipients().map(|a| a.domain().to_ascii_lowercase()).collect();
    list.sort();
    list.dedup();
    list
}

impl Domains {
    pub fn new(per_domain: u32) -> Domains {
        Domains { per_domain: usize::try_from(per_domain.max(1)).unwrap_or(1), known: Mutex::default() }
    }

    /// The table of domains; a worker that panicked holding it left it consistent (every change
    /// is one assignment), so it is used as it stands.
    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, Domain>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long mail to these domains must still wait, and why; `None` when none is resting.
    pub fn resting(&self, domains: &[String]) -> Option<Rest> {
        let now = Instant::now();
        let known = self.known();
        domains
            .iter()
            .filter_map(|d| {
                let entry = known.get(d)?;
                let until = entry.rest_until.filter(|u| *u > now)?;
                Some(Rest { left: until - now, why: format!("{d}: {}", entry.why) })
            })
            .max_by_key(|r| r.left)
    }

    /// Waits for a session slot in every domain of the mail.
    pub async fn enter(&self, domains: &[String]) -> Passage {
        let mut permits = Vec::with_capacity(domains.len());
        for d in domains {
            let sessions = {
                let mut known = self.known();
                let entry = known.entry(d.clone()).or_insert_with(|| Domain {
                    sessions: Arc::new(Semaphore::new(self.per_domain)),
                    rest_until: None,
                    why: String::new(),
                });
                entry.sessions.clone()
            };
            // The semaphore is never closed, so acquiring only fails if that changes: go on unlimited.
            if let Ok(p) = sessions.acquire_owned().await {
                permits.push(p);
            }
        }
        Passage { _permits: permits }
    }

    /// The server answered "try later" (`why`) for mail to these domains: they rest for `rest`.
    pub fn rest(&self, domains: &[String], rest: Duration, why: &str) {
        let until = Instant::now() + rest;
        let mut known = self.known();
        for d in domains {
            if let Some(entry) = known.get_mut(d) {
                entry.rest_until = Some(entry.rest_until.map_or(until, |u| u.max(until)));
                entry.why = why.to_string();
            }
        }
    }

    /// Mail to these domains went through: any rest is over.
    pub fn recovered(&self, domains: &[String]) {
        let mut known = self.known();
        for d in domains {
            if let Some(entry) = known.get_mut(d) {
                entry.rest_until = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_domain_takes_at_most_its_sessions_and_rests_after_a_try_later() {
        let gate = Domains::new(2);
        let d = vec!["gjovik.kommune.no".to_string()];
        let (_a, _b) = (gate.enter(&d).await, gate.enter(&d).await);
        let third = tokio::time::timeout(Duration::from_millis(50), gate.enter(&d)).await;
        assert!(third.is_err(), "a third session to the same domain waits");
        let other = vec!["vtfk.no".to_string()];
        assert!(tokio::time::timeout(Duration::from_millis(50), gate.enter(&other)).await.is_ok());

        assert_eq!(gate.resting(&d), None);
        gate.rest(&d, Duration::from_secs(60), "451 4.3.0 Try again later");
        let rest = gate.resting(&d).expect("resting");
        assert!(rest.left > Duration::from_secs(50), "{rest:?}");
        assert_eq!(rest.why, "gjovik.kommune.no: 451 4.3.0 Try again later");
        assert_eq!(gate.resting(&other), None, "only the domain that said so rests");
        gate.recovered(&d);
        assert_eq!(gate.resting(&d), None);
    }
}
