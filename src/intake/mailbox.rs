//! One signed-in session on the helpdesk folder: take every waiting mail, record it, and only after
//! the commit move it to the processed folder (or flag it, where the server cannot move); then wait
//! with IDLE — re-issued on our own clock, since keepalives reset async-imap's timer — or poll.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures_util::TryStreamExt as _;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::time::Instant;

use super::connect::Session;
use crate::config::ImapConfig;
use crate::ingest::{Ingestor, Outcome, Source};

/// The keyword that marks a processed mail on servers without MOVE or UIDPLUS.
const DONE_KEYWORD: &str = "$RoutedeskDone";
/// Mail above this size is fetched on its own rather than in a batch.
const BATCH_BYTES: u64 = 8 * 1024 * 1024;

struct Caps {
    can_move: bool,
    uidplus: bool,
    idle: bool,
}

pub struct Watch<'a> {
    pub cfg: &'a ImapConfig,
    pub ingestor: &'a Ingestor,
}

impl Watch<'_> {
    /// Runs until shutdown (`Ok`) or a connection or database error (`Err`, the caller reconnects).
    /// `on_ready` is called once the folder is selected.
    pub async fn run(
        &self,
        mut session: Session,
        shutdown: &mut watch::Receiver<bool>,
        on_ready: impl FnOnce(),
    ) -> Result<()> {
        let caps = session.capabilities().await.context("CAPABILITY")?;
        let caps =
            Caps { can_move: caps.has_str("MOVE"), uidplus: caps.has_str("UIDPLUS"), idle: caps.has_str("IDLE") };
        if !caps.can_move || !caps.idle {
            tracing::info!(r#move = caps.can_move, idle = caps.idle, "IMAP server lacks MOVE or IDLE; using fallbacks");
        }
        // Exists already, usually; a NO here is fine and a real problem shows at the first move.
        let _ = session.create(&self.cfg.processed_folder).await;
        let mailbox = session.select(&self.cfg.folder).await.with_context(|| format!("SELECT {}", self.cfg.folder))?;
        let uidvalidity = mailbox.uid_validity.unwrap_or(0);
        let store = &self.ingestor.store;
        if let Some((known, _)) = store.mailbox_state(&self.cfg.folder).await?
            && known != uidvalidity
        {
            // The server renumbered the folder: everything still in it is scanned again; the dedup key
            // keeps what was already recorded from being recorded twice.
            tracing::warn!(folder = %self.cfg.folder, old = known, new = uidvalidity, "UIDVALIDITY changed; re-scanning");
        }
        on_ready();
        tracing::info!(folder = %self.cfg.folder, uidvalidity, "watching the helpdesk mailbox");

        loop {
            if *shutdown.borrow() {
                let _ = session.logout().await;
                return Ok(());
            }
            // Looking right before IDLE closes the gap where mail arriving after a fetch would wait.
            let done = self.drain(&mut session, &caps, uidvalidity).await?;
            if done > 0 {
                continue;
            }
            if caps.idle {
                session = self.idle(session, shutdown).await?;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.cfg.poll_secs)) => {}
                    _ = shutdown.changed() => {}
                }
                session.noop().await.context("NOOP")?;
            }
        }
    }

    /// Processes every waiting mail; returns how many.
    async fn drain(&self, session: &mut Session, caps: &Caps, uidvalidity: u32) -> Result<usize> {
        let query = if caps.can_move || caps.uidplus {
            "UNDELETED".to_string()
        } else {
            format!("UNDELETED UNKEYWORD {DONE_KEYWORD}")
        };
        let mut uids: Vec<u32> = session.uid_search(&query).await.context("UID SEARCH")?.into_iter().collect();
        uids.sort_unstable();
        let mut total = 0;
        for chunk in uids.chunks(self.cfg.batch as usize) {
            let sizes = self.sizes(session, chunk).await?;
            let limit = self.ingestor.limits.max_bytes as u64;
            let mut done = Vec::with_capacity(chunk.len());
            let mut batch = Vec::new();
            let mut batch_bytes = 0u64;
            for (&uid, &size) in &sizes {
                if size > limit {
                    let header = self.fetch(session, &[uid], "BODY.PEEK[HEADER]").await?;
                    let raw = header.into_values().next().unwrap_or_default();
                    let reason = format!(
                        "the message is {size} bytes; the limit is {limit} (kept on the server in {})",
                        self.cfg.processed_folder
                    );
                    let source = Source { folder: &self.cfg.folder, uidvalidity, uid };
                    self.ingestor.quarantine(&raw, &reason, source).await?;
                    done.push(uid);
                    continue;
                }
                batch.push(uid);
                batch_bytes += size;
                if batch_bytes >= BATCH_BYTES {
                    done.extend(self.ingest_batch(session, &std::mem::take(&mut batch), uidvalidity).await?);
                    batch_bytes = 0;
                }
            }
            done.extend(self.ingest_batch(session, &batch, uidvalidity).await?);
            self.mark_processed(session, caps, &done).await?;
            if let Some(&last) = done.iter().max() {
                let mut tx = self.ingestor.store.begin().await?;
                tx.set_mailbox_state(&self.cfg.folder, uidvalidity, last, OffsetDateTime::now_utc()).await?;
                tx.commit().await?;
            }
            total += done.len();
        }
        Ok(total)
    }

    async fn ingest_batch(&self, session: &mut Session, uids: &[u32], uidvalidity: u32) -> Result<Vec<u32>> {
        if uids.is_empty() {
            return Ok(vec![]);
        }
        let started = Instant::now();
        let bodies = self.fetch(session, uids, "BODY.PEEK[]").await?;
        let fetched = started.elapsed();
        let mails: Vec<_> =
            bodies.into_iter().map(|(uid, raw)| (raw, Source { folder: &self.cfg.folder, uidvalidity, uid })).collect();
        let outcomes = self.ingestor.ingest_batch(&mails).await?;
        tracing::debug!(
            mails = mails.len(),
            fetch_ms = fetched.as_millis(),
            record_ms = (started.elapsed() - fetched).as_millis(),
            "batch recorded"
        );
        let mut done = Vec::with_capacity(mails.len());
        for ((_, source), outcome) in mails.iter().zip(&outcomes) {
            let uid = source.uid;
            match outcome {
                Outcome::Ticket { number, status } => tracing::info!(uid, ticket = %number, status, "new ticket"),
                Outcome::Reply { number, completed } => tracing::info!(uid, ticket = %number, completed, "reply added"),
                Outcome::Ignored { reason } => tracing::info!(uid, reason = %reason, "ignored"),
                Outcome::Quarantined { reason } => tracing::warn!(uid, reason = %reason, "quarantined"),
                Outcome::Duplicate => tracing::info!(uid, "already recorded"),
            }
            done.push(uid);
        }
        Ok(done)
    }

    async fn sizes(&self, session: &mut Session, uids: &[u32]) -> Result<BTreeMap<u32, u64>> {
        let set = uid_set(uids);
        let fetches: Vec<_> =
            session.uid_fetch(&set, "(UID RFC822.SIZE)").await.context("UID FETCH sizes")?.try_collect().await?;
        Ok(fetches.into_iter().filter_map(|f| Some((f.uid?, u64::from(f.size?)))).collect())
    }

    /// `item` is `BODY.PEEK[]` or `BODY.PEEK[HEADER]` (PEEK: fetching must not mark mail read).
    async fn fetch(&self, session: &mut Session, uids: &[u32], item: &str) -> Result<BTreeMap<u32, Vec<u8>>> {
        let set = uid_set(uids);
        let fetches: Vec<_> =
            session.uid_fetch(&set, format!("(UID {item})")).await.context("UID FETCH")?.try_collect().await?;
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
        if caps.can_move {
            session.uid_mv(&set, folder).await.with_context(|| format!("UID MOVE to {folder}"))?;
        } else if caps.uidplus {
            session.uid_copy(&set, folder).await.with_context(|| format!("UID COPY to {folder}"))?;
            let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect().await?;
            let _: Vec<_> = session.uid_expunge(&set).await?.try_collect().await?;
        } else {
            let flags = format!("+FLAGS.SILENT (\\Seen {DONE_KEYWORD})");
            let _: Vec<_> = session.uid_store(&set, flags).await?.try_collect().await?;
        }
        Ok(())
    }

    async fn idle(&self, session: Session, shutdown: &mut watch::Receiver<bool>) -> Result<Session> {
        let mut handle = session.idle();
        handle.init().await.context("IDLE")?;
        let limit = Duration::from_secs(self.cfg.idle_secs);
        let deadline = Instant::now() + limit;
        {
            let (fut, stop) = handle.wait_with_timeout(limit);
            tokio::pin!(fut);
            let mut stop = Some(stop);
            tokio::select! {
                r = &mut fut => { r.context("waiting in IDLE")?; }
                // Our own deadline: async-imap's timer restarts on every keepalive.
                _ = tokio::time::sleep_until(deadline) => { drop(stop.take()); (&mut fut).await.context("ending IDLE")?; }
                _ = shutdown.changed() => { drop(stop.take()); (&mut fut).await.context("ending IDLE")?; }
            }
        }
        handle.done().await.context("DONE")
    }
}

/// `1,2,5` — explicit UIDs only; `n:*` would also match the newest mail when its UID is below n.
fn uid_set(uids: &[u32]) -> String {
    uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}
