//! Erasing one person's data on their request (GDPR art. 17, `routedesk erase --person ADDRESS`):
//! their copies in the helpdesk mailbox, then everything the store holds of them (see
//! [`crate::store::Tx::erase_person`]); statistics stay. The run is recorded without the address.

use anyhow::{Result, anyhow};
use time::OffsetDateTime;

use super::mailbox;
use crate::config::Config;
use crate::intake::connect::Login;
use crate::store::{Erased, Store};
use crate::text::address::EmailAddress;

/// What an erasure removed (or, dry, would remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Erasure {
    /// The person, as the validator reads the address given.
    pub person: EmailAddress,
    pub store: Erased,
    /// Their mail's copies in the helpdesk mailbox.
    pub mailbox: usize,
}

/// Removes `person`'s data: first the copies in the helpdesk mailbox (signed in as the service
/// is), then the store's, in one transaction with the record of the run. `dry_run` only counts.
/// Run again after a failure: what is gone stays gone, and the rest is found again.
pub async fn erase(cfg: &Config, store: &Store, person: &str, actor: &str, dry_run: bool) -> Result<Erasure> {
    let person = EmailAddress::parse(person.trim()).map_err(|e| anyhow!("{e}: give the person's e-mail address"))?;
    let tokens = crate::service::token_source(cfg, store)?;
    let mechanism = cfg.oauth2.as_ref().map(|o| o.mechanism).unwrap_or_default();
    let login = Login::new(&cfg.imap, tokens, mechanism)?;
    let copies = mailbox::erase_copies(&cfg.imap, &login, &person, dry_run)
        .await
        .map_err(|e| e.context("removing the copies in the helpdesk mailbox (nothing in the database was changed)"))?;

    let now = OffsetDateTime::now_utc();
    let naming = store.mail_naming(&person).await?;
    let mut tx = store.begin().await?;
    let erased = tx.erase_person(&person, &naming, now, actor).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        let detail = format!(
            "erasure of one person's data on request: {} tickets, {} mails emptied, {} mails sent to them, \
             {} other records naming them, {copies} copies in the helpdesk mailbox",
            erased.tickets.len(),
            erased.messages,
            erased.sent_to,
            erased.mentions
        );
        let tickets = i64::try_from(erased.tickets.len()).unwrap_or(i64::MAX);
        let messages = i64::try_from(erased.messages + erased.sent_to).unwrap_or(i64::MAX);
        tx.record_purge(now, actor, tickets, messages, &detail).await?;
        tx.commit().await?;
        store.truncate_log().await?;
    }
    Ok(Erasure { person, store: erased, mailbox: copies })
}
