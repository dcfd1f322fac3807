//! Named crash points for the reliability tests. Built with the `fault-injection` feature, the
//! process kills itself (SIGKILL: no destructor, no flush, no goodbye) the first time it reaches
//! the point named in `RD_CRASH_AT` (not `ROUTEDESK_…`: those are configuration), leaving the
//! file `RD_CRASH_MARK` behind so a restarted process runs on; or it waits a while there
//! (`RD_PAUSE_AT`) so a test can act inside the window. Without the feature (every release build)
//! a point is nothing.

/// A moment between two steps that must not lose or double anything when the process dies there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Intake: a batch fetched and written, not yet committed.
    FetchedNotCommitted,
    /// Intake: a batch committed, not yet moved out of the helpdesk folder (a kill, or a pause
    /// while the outbox sends the batch's mail).
    CommittedNotMoved,
    /// Outbox: mail claimed, nothing sent yet.
    ClaimedNotSent,
    /// Outbox: the server accepted a mail (250 after DATA), not yet recorded as sent.
    AcceptedNotRecorded,
    /// Intake: the folder looked through, the IDLE command not yet sent (a pause, not a kill).
    DrainedNotIdling,
}

impl Point {
    pub fn as_str(self) -> &'static str {
        match self {
            Point::FetchedNotCommitted => "fetched-not-committed",
            Point::CommittedNotMoved => "committed-not-moved",
            Point::ClaimedNotSent => "claimed-not-sent",
            Point::AcceptedNotRecorded => "accepted-not-recorded",
            Point::DrainedNotIdling => "drained-not-idling",
        }
    }
}

/// Whether a test asked for `point` (named in the variable `at`) and it has not been reached
/// before: then the file named in `mark` is written, so it happens once.
#[cfg(feature = "fault-injection")]
fn first_time(point: Point, at: &str, mark: &str) -> bool {
    let Some(mark) = std::env::var_os(mark) else { return false };
    std::env::var(at).ok().as_deref() == Some(point.as_str())
        && !std::path::Path::new(&mark).exists()
        && std::fs::write(&mark, point.as_str()).is_ok()
}

/// Kills the process here when a test asked for it (`RD_CRASH_AT`, `RD_CRASH_MARK`).
#[cfg(feature = "fault-injection")]
pub fn reached(point: Point) {
    if first_time(point, "RD_CRASH_AT", "RD_CRASH_MARK") {
        // SAFETY: kill(2) on our own pid with a valid signal number; it does not return.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn reached(_: Point) {}

/// Holds the process here for `RD_PAUSE_MS` (default 3 s) when a test asked for it (`RD_PAUSE_AT`,
/// `RD_PAUSE_MARK`, written as the pause starts), so the test can act inside the window.
#[cfg(feature = "fault-injection")]
pub async fn pause(point: Point) {
    if first_time(point, "RD_PAUSE_AT", "RD_PAUSE_MARK") {
        let ms = std::env::var("RD_PAUSE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3_000);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub async fn pause(_: Point) {}

/// A mail carrying this header line makes the reader panic, in builds with the crash points only:
/// the test of a mail that no limit catches but that the reader cannot survive.
pub const PANIC_MARKER: &[u8] = b"X-Routedesk-Fault-Injection: panic";

/// Panics on a mail carrying [`PANIC_MARKER`].
#[cfg(feature = "fault-injection")]
pub fn poison(raw: &[u8]) {
    if raw.windows(PANIC_MARKER.len()).any(|w| w == PANIC_MARKER) {
        panic!("the reader failed on a mail (fault injection)");
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn poison(_: &[u8]) {}
