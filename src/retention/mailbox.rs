//! The helpdesk mailbox's copies of one person's mail, for an erasure: every processed mail from
//! them or naming them (the processed folder, and processed mail left flagged in the helpdesk
//! folder where the server cannot move), marked deleted and expunged. Mail still waiting to be
//! processed is left alone: it is a new report, taken in as it comes.

use std::future::Future;

use anyhow::{Context as _, Result, anyhow};
use futures_util::TryStreamExt as _;

use crate::config::ImapConfig;
use crate::intake::DONE_KEYWORD;
use crate::intake::connect::{self, Login, Session};
use crate::text::address::EmailAddress;

/// Removes (or, `dry_run`, counts) the copies; returns how many.
pub async fn erase_copies(cfg: &ImapConfig, login: &Login, person: &EmailAddress, dry_run: bool) -> Result<usize> {
    let t = connect::deadline(cfg);
    let mut session = connect::connect(cfg, login).await?;
    let caps = within(t, "CAPABILITY", session.capabilities()).await?;
    let uidplus = caps.has_str("UIDPLUS");
    // An address holds no quote or backslash (the validator refuses them): safe in a quoted string.
    let named = format!("OR FROM \"{person}\" TEXT \"{person}\"");
    let mut total = 0;
    for (folder, query) in [
        (cfg.processed_folder.as_str(), named.clone()),
        (cfg.folder.as_str(), format!("KEYWORD {DONE_KEYWORD} {named}")),
    ] {
        total += erase_in(&mut session, t, folder, &query, uidplus, dry_run)
            .await
            .with_context(|| format!("in the folder {folder}"))?;
    }
    let _ = tokio::time::timeout(t, session.logout()).await;
    Ok(total)
}

async fn erase_in(
    session: &mut Session,
    t: std::time::Duration,
    folder: &str,
    query: &str,
    uidplus: bool,
    dry_run: bool,
) -> Result<usize> {
    match tokio::time::timeout(t, session.select(folder)).await {
        Err(_) => anyhow::bail!("SELECT: no answer within {} s", t.as_secs()),
        // A folder that does not exist holds no copy.
        Ok(Err(async_imap::error::Error::No(_))) => return Ok(0),
        Ok(Err(e)) => return Err(anyhow!(e).context("SELECT")),
        Ok(Ok(_)) => {}
    }
    let mut uids: Vec<u32> = within(t, "UID SEARCH", session.uid_search(query)).await?.into_iter().collect();
    if uids.is_empty() || dry_run {
        return Ok(uids.len());
    }
    uids.sort_unstable();
    let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    within(t, "UID STORE", async {
        session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect::<Vec<_>>().await
    })
    .await?;
    if uidplus {
        within(t, "UID EXPUNGE", async { session.uid_expunge(&set).await?.try_collect::<Vec<_>>().await }).await?;
    } else {
        within(t, "EXPUNGE", async { session.expunge().await?.try_collect::<Vec<_>>().await }).await?;
    }
    Ok(uids.len())
}

/// Runs one IMAP command within `limit`, naming it when it fails or runs out of time.
async fn within<T>(
    limit: std::time::Duration,
    what: &str,
    fut: impl Future<Output = std::result::Result<T, async_imap::error::Error>>,
) -> Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| anyhow!("{what}: no answer within {} s", limit.as_secs()))?
        .with_context(|| what.to_string())
}
