//! The periodic reconciliation (daily by default): the mailbox compared with the ledger. It looks
//! at the processed mail of the last days and at mail in the helpdesk folder that the intake's
//! search passes over (flagged deleted by another client), by the same dedup key the intake
//! records. What the ledger lacks — a mail a person moved to the processed folder before
//! routedesk saw it, a ledger row lost in a restore — is listed for staff and counted in
//! `/metrics`; moved back into the helpdesk folder, it is taken in like any other mail.
//! Read-only (EXAMINE), on its own connection, and only by the instance holding the mailbox.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Result, anyhow};
use futures_util::TryStreamExt as _;
use time::OffsetDateTime;
use tokio::sync::watch;

use super::IntakeStats;
use super::connect::{self, Login, Session};
use super::mailbox::{DONE_KEYWORD, uid_set};
use crate::config::ImapConfig;
use crate::desk::dedup;
use crate::store::{ReconcileRun, Store, Unmatched};

/// Mails fetched per round trip.
const CHUNK: usize = 20;
/// A failed run is tried again after this long (or the interval, when shorter).
const RETRY: Duration = Duration::from_secs(3600);

/// Runs a reconciliation whenever one is due, until shutdown.
pub async fn run(
    cfg: ImapConfig,
    login: Login,
    store: Store,
    max_bytes: u64,
    stats: Arc<IntakeStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    if cfg.reconcile_secs == 0 {
        return;
    }
    let every = Duration::from_secs(cfg.reconcile_secs);
    let look = every.min(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(look) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        if !stats.leader.load(Ordering::Relaxed) {
            continue;
        }
        match due(&store, every).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "cannot read when the mailbox was last reconciled");
                continue;
            }
        }
        let started_at = OffsetDateTime::now_utc();
        let result = once(&cfg, &login, &store, max_bytes).await;
        let finished_at = OffsetDateTime::now_utc();
        let (run, found) = match result {
            Ok((scanned, found)) => {
                if found.is_empty() {
                    tracing::info!(scanned, "mailbox reconciled: every mail is in the ledger");
                } else {
                    tracing::warn!(
                        scanned,
                        unmatched = found.len(),
                        "mailbox reconciled: mail on the server is not in the ledger"
                    );
                }
                let run = ReconcileRun {
                    started_at,
                    finished_at,
                    scanned: i64::try_from(scanned).unwrap_or(i64::MAX),
                    unmatched: i64::try_from(found.len()).unwrap_or(i64::MAX),
                    error: None,
                };
                (run, found)
            }
            Err(e) => {
                tracing::warn!(error = format!("{e:#}"), "the mailbox could not be reconciled");
                let run =
                    ReconcileRun { started_at, finished_at, scanned: 0, unmatched: 0, error: Some(format!("{e:#}")) };
                (run, vec![])
            }
        };
        if let Err(e) = store.record_reconcile(&run, &found).await {
            tracing::warn!(error = format!("{e:#}"), "cannot record the reconciliation");
        }
    }
}

/// Whether the last run is an interval old (a failed one: an hour, or the interval if shorter).
async fn due(store: &Store, every: Duration) -> Result<bool> {
    let Some(last) = store.last_reconcile().await? else { return Ok(true) };
    let wait = if last.error.is_some() { every.min(RETRY) } else { every };
    Ok(OffsetDateTime::now_utc() - last.started_at >= wait)
}

/// One comparison; the number of mails looked at and those the ledger lacks.
async fn once(cfg: &ImapConfig, login: &Login, store: &Store, max_bytes: u64) -> Result<(usize, Vec<Unmatched>)> {
    let t = connect::deadline(cfg);
    let mut session = connect::connect(cfg, login).await?;
    let caps = step("CAPABILITY", t, session.capabilities()).await?;
    let moves = caps.has_str("MOVE") || caps.has_str("UIDPLUS");
    let since = OffsetDateTime::now_utc() - time::Duration::days(i64::from(cfg.reconcile_days));
    let since = imap_date(since.date());
    let mut found = Vec::new();
    let mut scanned = 0;
    // Processed mail: moved to its folder, or flagged in place where the server cannot move.
    let (folder, query) = if moves {
        (cfg.processed_folder.as_str(), format!("SINCE {since}"))
    } else {
        (cfg.folder.as_str(), format!("KEYWORD {DONE_KEYWORD} SINCE {since}"))
    };
    for (folder, query) in [(folder, query), (cfg.folder.as_str(), "DELETED".to_string())] {
        match step(&format!("EXAMINE {folder}"), t, session.examine(folder)).await {
            Ok(_) => {}
            // No processed folder yet: nothing was processed.
            Err(e) if folder == cfg.processed_folder && e.root_cause().to_string().contains("exist") => continue,
            Err(e) => return Err(e),
        }
        let mut uids: Vec<u32> = step("UID SEARCH", t, session.uid_search(&query)).await?.into_iter().collect();
        uids.sort_unstable();
        scanned += uids.len();
        for chunk in uids.chunks(CHUNK) {
            found.extend(unrecorded(&mut session, t, store, folder, chunk, max_bytes).await?);
        }
    }
    let _ = tokio::time::timeout(t, session.logout()).await;
    Ok((scanned, found))
}

/// The mails of `uids` that the ledger has no record of.
async fn unrecorded(
    session: &mut Session,
    t: Duration,
    store: &Store,
    folder: &str,
    uids: &[u32],
    max_bytes: u64,
) -> Result<Vec<Unmatched>> {
    let sizes: Vec<_> = step("UID FETCH sizes", t, async {
        session.uid_fetch(&uid_set(uids), "(UID RFC822.SIZE)").await?.try_collect::<Vec<_>>().await
    })
    .await?;
    // Too large for the intake: it recorded the header only, as quarantined; so is it looked up.
    let (mut large, mut small) = (Vec::new(), Vec::new());
    for f in &sizes {
        if let (Some(uid), Some(size)) = (f.uid, f.size) {
            if u64::from(size) > max_bytes { large.push(uid) } else { small.push(uid) }
        }
    }
    let mut out = Vec::new();
    for (uids, item) in [(small, "BODY.PEEK[]"), (large, "BODY.PEEK[HEADER]")] {
        if uids.is_empty() {
            continue;
        }
        let limit = t + Duration::from_secs(uids.len() as u64 * max_bytes.min(1 << 20) / 50_000);
        let fetched: Vec<_> = step("UID FETCH", limit, async {
            session
                .uid_fetch(&uid_set(&uids), format!("(UID INTERNALDATE {item})"))
                .await?
                .try_collect::<Vec<_>>()
                .await
        })
        .await?;
        for f in fetched {
            let (Some(uid), Some(raw)) = (f.uid, f.body().or_else(|| f.header())) else { continue };
            if store.is_recorded(&dedup::key(raw)).await? {
                continue;
            }
            let received_at = f.internal_date().and_then(|d| OffsetDateTime::from_unix_timestamp(d.timestamp()).ok());
            out.push(described(folder, uid, raw, received_at));
        }
    }
    Ok(out)
}

/// What staff need to find the mail: its folder and UID, Message-ID, sender, subject and date.
fn described(folder: &str, uid: u32, raw: &[u8], received_at: Option<OffsetDateTime>) -> Unmatched {
    let headers = mail_parser::MessageParser::default().parse_headers(raw);
    let header = headers.as_ref();
    Unmatched {
        folder: folder.to_string(),
        uid: i64::from(uid),
        message_id: header.and_then(|m| m.message_id()).map(str::to_string),
        from_addr: header
            .and_then(|m| m.from())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_lowercase),
        subject: header.and_then(|m| m.subject()).unwrap_or_default().chars().take(200).collect(),
        received_at,
    }
}

async fn step<T, E: Into<anyhow::Error>>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| anyhow!("the IMAP server did not answer {what} within {} s", limit.as_secs()))?
        .map_err(|e| e.into().context(what.to_string()))
}

/// `4-Dec-2026`, as IMAP's SEARCH SINCE takes a date.
fn imap_date(d: time::Date) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{}-{}-{}", d.day(), MONTHS[usize::from(u8::from(d.month())) - 1], d.year())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_written_as_imap_reads_them() {
        let d = time::Date::from_calendar_date(2026, time::Month::December, 4).expect("date");
        assert_eq!(super::imap_date(d), "4-Dec-2026");
        let d = time::Date::from_calendar_date(2027, time::Month::January, 31).expect("date");
        assert_eq!(super::imap_date(d), "31-Jan-2027");
    }
}
