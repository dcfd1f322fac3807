//! What the intake knows of its own health, for `/readyz`, `routedesk status`, metrics and alerts:
//! whether a session is up and making progress, when it last did, and since when it has failed.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use time::OffsetDateTime;

#[derive(Debug, Default)]
pub struct IntakeStats {
    pub reconnects: AtomicU64,
    pub connected: AtomicBool,
    /// This instance holds the mailbox's lease (only one instance polls at a time).
    pub leader: AtomicBool,
    /// Unix milliseconds by which the session must finish what it is doing (0: no session step
    /// under way). Past it, the session is stalled: the lease is not renewed and readiness fails.
    progress_due_ms: AtomicI64,
    /// Unix seconds of the last IMAP step that succeeded (0: none yet).
    last_ok: AtomicI64,
    /// Unix seconds of the first failure of the current run of failures (0: not failing).
    failing_since: AtomicI64,
    last_error: Mutex<String>,
}

fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

impl IntakeStats {
    /// A step begins that must be done within `limit`.
    pub fn expect_within(&self, limit: Duration) {
        let limit = i64::try_from(limit.as_millis()).unwrap_or(i64::MAX);
        self.progress_due_ms.store(now_ms().saturating_add(limit), Ordering::Relaxed);
    }

    /// A step succeeded: the mailbox answers, whatever failed before.
    pub fn succeeded(&self) {
        self.last_ok.store(OffsetDateTime::now_utc().unix_timestamp(), Ordering::Relaxed);
        self.failing_since.store(0, Ordering::Relaxed);
    }

    /// The session failed (could not connect, log in, or a step failed or ran out of time).
    pub fn failed(&self, error: &str) {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let _ = self.failing_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.progress_due_ms.store(0, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            error.clone_into(&mut e);
        }
    }

    /// Another instance holds the mailbox: this one's failures say nothing of the intake now.
    pub fn standing_by(&self) {
        self.failing_since.store(0, Ordering::Relaxed);
        self.progress_due_ms.store(0, Ordering::Relaxed);
    }

    /// No session step is overdue: a session that is up makes progress.
    pub fn making_progress(&self) -> bool {
        let due = self.progress_due_ms.load(Ordering::Relaxed);
        due == 0 || now_ms() <= due
    }

    /// The session is up and not stalled.
    pub fn healthy(&self) -> bool {
        self.connected.load(Ordering::Relaxed) && self.making_progress()
    }

    pub fn last_ok(&self) -> Option<OffsetDateTime> {
        at(self.last_ok.load(Ordering::Relaxed))
    }

    /// Since when intake has failed without a success in between.
    pub fn failing_since(&self) -> Option<OffsetDateTime> {
        at(self.failing_since.load(Ordering::Relaxed))
    }

    pub fn last_error(&self) -> String {
        self.last_error.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

fn at(secs: i64) -> Option<OffsetDateTime> {
    (secs > 0).then(|| OffsetDateTime::from_unix_timestamp(secs).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_past_its_deadline_is_not_ready() {
        let s = IntakeStats::default();
        assert!(!s.healthy(), "not connected yet");
        s.connected.store(true, Ordering::Relaxed);
        s.expect_within(Duration::from_secs(60));
        assert!(s.healthy(), "connected, within its deadline");
        s.expect_within(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!s.healthy() && !s.making_progress(), "a step overdue: stalled, not ready");
        s.succeeded();
        s.failed("IMAP LOGIN failed");
        let since = s.failing_since().expect("failing");
        s.failed("again");
        assert_eq!(s.failing_since(), Some(since), "a run of failures keeps its start");
        assert_eq!(s.last_error(), "again");
        s.standing_by();
        assert_eq!(s.failing_since(), None, "another instance holds the mailbox");
    }
}
