//! One signed-in session on the helpdesk folder: take every waiting mail, record it, and only after
//! the commit move it to the processed folder (or flag it, where the server cannot move); then wait
//! with IDLE — re-issued on our own clock, since keepalives reset async-imap's timer — or poll.
//! Every command has a deadline: a server that goes silent (a half-open connection, a stalled
//! proxy) ends the session with an error, and the caller reconnects.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use futures_util::TryStreamExt as _;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::Instant;

use super::IntakeStats;
use super::connect::Session;
use crate::config::ImapConfig;
use crate::desk::{Desk, Outcome, Source};

/// The keyword that marks a processed mail on servers without MOVE or UIDPLUS.
pub(crate) const DONE_KEYWORD: &str = "$RoutedeskDone";
/// Waiting mail beyond this is a backlog the outbox gives way to (see `Store::draining`): recording
/// it takes more than a few seconds, and sending alongside would double that on two cores (10,000
/// reports on SQLite: 52.8 s recorded alongside, 31.7 s given way to). A shorter queue is recorded
/// and sent sooner alongside (1,000: 4.6–5.9 s against 6.2–7.4 s).
const BACKLOG: usize = 2_000;

/// Mail above this size is fetched on its own rather than in a batch.
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// The slowest transfer rate a FETCH may have before it counts as stalled.
const MIN_BYTES_PER_SEC: u64 = 50_000;
/// Time allowed between two IMAP steps, for recording what was fetched (database work has its
/// own timeouts; this only keeps a stuck session from holding the lease for good).
const RECORDING_GRACE: Duration = Duration::from_secs(120);

struct Caps {
    can_move: bool,
    uidplus: bool,
    idle: bool,
}

pub struct FolderSession<'a> {
    pub cfg: &'a ImapConfig,
    pub desk: &'a Desk,
    pub stats: &'a IntakeStats,
    /// The mailbox lease this session works under, and this instance's name in it.
    pub lease: &'a str,
    pub holder: &'a str,
}

impl FolderSession<'_> {
    fn deadline(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_secs.max(1))
    }

    /// Runs one IMAP step within `limit`; a step that runs out of time is an error naming it.
    async fn step<T, E>(&self, what: &str, limit: Duration, fut: impl Future<Output = Result<T, E>>) -> Result<T>
    where
        E: Into<anyhow::Error>,
    {
        self.stats.expect_within(limit);
        let out = tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| anyhow!("the IMAP server did not answer {what} within {} s", limit.as_secs()))?
            .map_err(|e| e.into().context(what.to_string()))?;
        self.stats.succeeded();
        // Recording what was fetched comes next; it may take a while, but not for ever.
        self.stats.expect_within(RECORDING_GRACE + limit);
        Ok(out)
    }

    /// Runs until shutdown (`Ok`) or a connection or database error (`Err`, the caller reconnects).
    /// `on_ready` is called once the folder is selected.
    pub async fn run(
        &self,
        mut session: Session,
        shutdown: &mut watch::Receiver<bool>,
        on_ready: impl FnOnce(),
    ) -> Result<()> {
        let t = self.deadline();
        let caps = self.step("CAPABILITY", t, session.capabilities()).await?;
        let caps =
            Caps { can_move: caps.has_str("MOVE"), uidplus: caps.has_str("UIDPLUS"), idle: caps.has_str("IDLE") };
        if !caps.can_move || !caps.idle {
            tracing::info!(r#move = caps.can_move, idle = caps.idle, "IMAP server lacks MOVE or IDLE; using fallbacks");
        }
        // Exists already, usually; a NO here is fine and a real problem shows at the first move.
        let created: Result<Result<(), async_imap::error::Error>> = self
            .step("CREATE", t, async {
                Ok::<_, async_imap::error::Error>(session.create(&self.cfg.processed_folder).await)
            })
            .await;
        created?.ok();
        let select = format!("SELECT {}", self.cfg.folder);
        let mailbox = self.step(&select, t, session.select(&self.cfg.folder)).await?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        let store = self.desk.store();
        // Every drain searches the whole folder (processed mail leaves it), so a renumbered folder or
        // a UIDNEXT gone backwards costs nothing but a look: the dedup key keeps what was recorded
        // already from being recorded twice. Both are worth a warning, as a sign of a server restore.
        match store.mailbox_state(&self.cfg.folder).await? {
            Some(known) if known.uidvalidity != uidvalidity => {
                tracing::warn!(folder = %self.cfg.folder, old = known.uidvalidity, new = uidvalidity, "UIDVALIDITY changed; re-scanning");
            }
            Some(known) if mailbox.uid_next.is_some_and(|next| next <= known.last_uid) => {
                tracing::warn!(
                    folder = %self.cfg.folder,
                    last_processed = known.last_uid,
                    uidnext = mailbox.uid_next,
                    "UIDNEXT went backwards with the same UIDVALIDITY; re-scanning"
                );
            }
            _ => {}
        }
        on_ready();
        tracing::info!(folder = %self.cfg.folder, uidvalidity, "watching the helpdesk mailbox");

        loop {
            if *shutdown.borrow() {
                let _ = tokio::time::timeout(t, session.logout()).await;
                return Ok(());
            }
            // Looking right before IDLE closes the gap where mail arriving after a fetch would wait.
            let done = self.drain(&mut session, &caps, uidvalidity).await?;
            if done > 0 {
                continue;
            }
            if caps.idle {
                crate::faults::pause(crate::faults::Point::DrainedNotIdling).await;
                session = self.idle(session, shutdown).await?;
            } else {
                self.stats.expect_within(Duration::from_secs(self.cfg.poll_secs) + t);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.cfg.poll_secs)) => {}
                    _ = shutdown.changed() => {}
                }
                self.step("NOOP", t, session.noop()).await?;
            }
        }
    }

    /// Processes every waiting mail; returns how many. While one step's mail is recorded, the next
    /// step's is fetched and decided, so the IMAP server, the pipeline and the database work side
    /// by side; a step's mail is still moved only after its commit.
    async fn drain(&self, session: &mut Session, caps: &Caps, uidvalidity: u32) -> Result<usize> {
        let query = if caps.can_move || caps.uidplus {
            "UNDELETED".to_string()
        } else {
            format!("UNDELETED UNKEYWORD {DONE_KEYWORD}")
        };
        let mut uids: Vec<u32> =
            self.step("UID SEARCH", self.deadline(), session.uid_search(&query)).await?.into_iter().collect();
        uids.sort_unstable();
        let _draining = (uids.len() > BACKLOG).then(|| self.desk.store().draining());
        let mut plan = Plan { chunks: uids.chunks(self.cfg.batch as usize), steps: VecDeque::new() };
        let mut total = 0;
        let mut next = self.fetch_step(session, &mut plan).await?;
        while let Some(current) = next {
            let (recorded, fetched) =
                tokio::join!(self.record_step(current, uidvalidity), self.fetch_step(session, &mut plan));
            let done = recorded?;
            crate::faults::reached(crate::faults::Point::CommittedNotMoved);
            crate::faults::pause(crate::faults::Point::CommittedNotMoved).await;
            // Fencing: an instance that stalled past its lease (frozen, paused) may wake up here with
            // mail a new holder has moved already; moving it again would file a second copy. A lease
            // that merely ran out is taken again, and the mail found again (recorded already).
            let now = OffsetDateTime::now_utc();
            if self.desk.store().lease_holder(self.lease, now).await?.as_deref() != Some(self.holder) {
                anyhow::bail!(
                    "the mailbox lease ran out while this instance stalled; the mail is left to the lease's next holder"
                );
            }
            // The next step's fetch failed after this one's commit: what was recorded is found again
            // (and known) on the next session, like any mail recorded but not moved.
            next = fetched?;
            self.mark_processed(session, caps, &done).await?;
            if let Some(&last) = done.iter().max() {
                let mut tx = self.desk.store().begin().await?;
                tx.set_mailbox_state(&self.cfg.folder, uidvalidity, last, OffsetDateTime::now_utc()).await?;
                tx.commit().await?;
            }
            total += done.len();
        }
        Ok(total)
    }

    /// Fetches (and decides) the plan's next step; `None` when the plan is done.
    async fn fetch_step(&self, session: &mut Session, plan: &mut Plan<'_>) -> Result<Option<Fetched>> {
        while plan.steps.is_empty() {
            let Some(chunk) = plan.chunks.next() else { return Ok(None) };
            let sizes = self.sizes(session, chunk).await?;
            plan.steps.extend(steps(&sizes, self.desk.limits().max_bytes as u64));
        }
        let Some(step) = plan.steps.pop_front() else { return Ok(None) };
        Ok(Some(match step {
            Step::TooLarge { uid, size } => {
                let header = self.fetch(session, &[uid], "BODY.PEEK[HEADER]", 64 * 1024).await?;
                Fetched::TooLarge { uid, size, header: header.into_values().next().unwrap_or_default() }
            }
            Step::Batch { uids, bytes } => {
                let started = Instant::now();
                let bodies = self.fetch(session, &uids, "BODY.PEEK[]", bytes).await?;
                if bodies.len() < uids.len() {
                    // Another client (a person in Outlook) moved or deleted them after our search: theirs now.
                    let gone: Vec<u32> = uids.iter().copied().filter(|u| !bodies.contains_key(u)).collect();
                    tracing::info!(?gone, "mail gone before it was fetched: another client moved or deleted it");
                }
                let fetched = started.elapsed();
                let (uids, mails): (Vec<u32>, Vec<Vec<u8>>) = bodies.into_iter().unzip();
                let decided = self.desk.decide_batch(mails).await?;
                tracing::debug!(mails = uids.len(), fetch_ms = fetched.as_millis(), "batch fetched and decided");
                Fetched::Batch { uids, decided }
            }
        }))
    }

    /// Records a fetched step; returns the UIDs it recorded (to be moved).
    async fn record_step(&self, step: Fetched, uidvalidity: u32) -> Result<Vec<u32>> {
        let folder = self.cfg.folder.as_str();
        match step {
            Fetched::TooLarge { uid, size, header } => {
                let limit = self.desk.limits().max_bytes as u64;
                let reason = crate::pipeline::set_aside::SetAside::TooLargeToFetch {
                    size,
                    limit,
                    kept_in: self.cfg.processed_folder.clone(),
                };
                self.desk.quarantine(&header, &reason, Source { folder, uidvalidity, uid }).await?;
                Ok(vec![uid])
            }
            Fetched::Batch { uids, decided } => {
                if uids.is_empty() {
                    return Ok(uids);
                }
                let started = Instant::now();
                let sources: Vec<Source> = uids.iter().map(|&uid| Source { folder, uidvalidity, uid }).collect();
                let outcomes = self.desk.record_batch(decided, &sources).await?;
                tracing::debug!(mails = uids.len(), record_ms = started.elapsed().as_millis(), "batch recorded");
                for (uid, outcome) in uids.iter().zip(&outcomes) {
                    match outcome {
                        Outcome::Ticket { number, status } => {
                            tracing::info!(uid, ticket = %number, %status, "new ticket")
                        }
                        Outcome::Reply { number, completed } => {
                            tracing::info!(uid, ticket = %number, completed, "reply added")
                        }
                        Outcome::Ignored { reason } => tracing::info!(uid, reason = %reason, "ignored"),
                        Outcome::Quarantined { reason } => tracing::warn!(uid, reason = %reason, "quarantined"),
                        Outcome::Duplicate => tracing::info!(uid, "already recorded"),
                    }
                }
                Ok(uids)
            }
        }
    }

    async fn sizes(&self, session: &mut Session, uids: &[u32]) -> Result<BTreeMap<u32, u64>> {
        let set = uid_set(uids);
        let fetches: Vec<_> = self
            .step("UID FETCH sizes", self.deadline(), async {
                session.uid_fetch(&set, "(UID RFC822.SIZE)").await?.try_collect::<Vec<_>>().await
            })
            .await?;
        Ok(fetches.into_iter().filter_map(|f| Some((f.uid?, u64::from(f.size?)))).collect())
    }

    /// `item` is `BODY.PEEK[]` or `BODY.PEEK[HEADER]` (PEEK: fetching must not mark mail read);
    /// `bytes` is about what it moves, for its deadline.
    async fn fetch(
        &self,
        session: &mut Session,
        uids: &[u32],
        item: &str,
        bytes: u64,
    ) -> Result<BTreeMap<u32, Vec<u8>>> {
        let set = uid_set(uids);
        let limit = self.deadline() + Duration::from_secs(bytes / MIN_BYTES_PER_SEC);
        let fetches: Vec<_> = self
            .step("UID FETCH", limit, async {
                session.uid_fetch(&set, format!("(UID {item})")).await?.try_collect::<Vec<_>>().await
            })
            .await?;
        Ok(fetches
            .into_iter()
            .filter_map(|f| {
                let body = f.body().or_else(|| f.header()).map(<[u8]>::to_vec)?;
                Some((f.uid?, body))
            })
            .collect())
    }

    async fn mark_processed(&self, session: &mut Session, caps: &Caps, uids: &[u32]) -> Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let folder = &self.cfg.processed_folder;
        let t = self.deadline();
        if caps.can_move {
            self.step(&format!("UID MOVE to {folder}"), t, session.uid_mv(&set, folder)).await?;
        } else if caps.uidplus {
            self.step(&format!("UID COPY to {folder}"), t, session.uid_copy(&set, folder)).await?;
            self.step("UID STORE", t, async {
                session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await
            })
            .await?;
            self.step("UID EXPUNGE", t, async { session.uid_expunge(&set).await?.try_collect::<Vec<_>>().await })
                .await?;
        } else {
            let flags = format!("+FLAGS.SILENT (\\Seen {DONE_KEYWORD})");
            self.step("UID STORE", t, async { session.uid_store(&set, flags).await?.try_collect::<Vec<_>>().await })
                .await?;
        }
        Ok(())
    }

    /// Waits in IDLE for new mail, at most `idle_secs`; then DONE, within the command deadline — the
    /// step that finds a connection gone silent while idling.
    async fn idle(&self, session: Session, shutdown: &mut watch::Receiver<bool>) -> Result<Session> {
        let t = self.deadline();
        let mut handle = session.idle();
        self.step("IDLE", t, handle.init()).await?;
        let limit = Duration::from_secs(self.cfg.idle_secs);
        let deadline = Instant::now() + limit;
        self.stats.expect_within(limit + t);
        {
            let (fut, stop) = handle.wait_with_timeout(limit);
            tokio::pin!(fut);
            let mut stop = Some(stop);
            let ended = tokio::select! {
                r = &mut fut => r.map(drop).context("waiting in IDLE"),
                // Our own deadline: async-imap's timer restarts on every keepalive.
                _ = tokio::time::sleep_until(deadline) => {
                    drop(stop.take());
                    self.step("the end of IDLE", t, &mut fut).await.map(drop)
                }
                _ = shutdown.changed() => {
                    drop(stop.take());
                    self.step("the end of IDLE", t, &mut fut).await.map(drop)
                }
            };
            ended?;
        }
        self.step("DONE", t, handle.done()).await
    }
}

/// `1,2,5` — explicit UIDs only; `n:*` would also match the newest mail when its UID is below n.
pub(super) fn uid_set(uids: &[u32]) -> String {
    uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// What is left to fetch of one drain: the searched UIDs in chunks (sizes are asked a chunk at a
/// time), and the steps planned from the chunks asked so far.
struct Plan<'u> {
    chunks: std::slice::Chunks<'u, u32>,
    steps: VecDeque<Step>,
}

/// One step of a drain: mail fetched and recorded together, or one mail too large to fetch.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Batch { uids: Vec<u32>, bytes: u64 },
    TooLarge { uid: u32, size: u64 },
}

enum Fetched {
    Batch { uids: Vec<u32>, decided: crate::desk::Decided },
    TooLarge { uid: u32, size: u64, header: Vec<u8> },
}

/// A chunk's steps from its mails' sizes: mail over `limit` on its own, to be set aside unfetched;
/// the rest in batches of about [`BATCH_BYTES`] (a batch ends with the mail that reaches it).
fn steps(sizes: &BTreeMap<u32, u64>, limit: u64) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut uids, mut bytes) = (Vec::new(), 0u64);
    for (&uid, &size) in sizes {
        if size > limit {
            steps.push(Step::TooLarge { uid, size });
            continue;
        }
        uids.push(uid);
        bytes += size;
        if bytes >= BATCH_BYTES {
            steps.push(Step::Batch { uids: std::mem::take(&mut uids), bytes: std::mem::take(&mut bytes) });
        }
    }
    if !uids.is_empty() {
        steps.push(Step::Batch { uids, bytes });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_is_fetched_in_batches_of_bounded_size_and_too_large_mail_alone() {
        let mb = 1024 * 1024;
        let sizes: BTreeMap<u32, u64> =
            [(1, 3 * mb), (2, 30 * mb), (3, 4 * mb), (4, 2 * mb), (5, 9 * mb), (6, mb)].into_iter().collect();
        assert_eq!(
            steps(&sizes, 25 * mb),
            vec![
                Step::TooLarge { uid: 2, size: 30 * mb },
                Step::Batch { uids: vec![1, 3, 4], bytes: 9 * mb },
                Step::Batch { uids: vec![5], bytes: 9 * mb },
                Step::Batch { uids: vec![6], bytes: mb },
            ]
        );
        assert_eq!(steps(&BTreeMap::new(), 25 * mb), vec![]);
    }
}
