//! Bounces: the outgoing mail a bounce returns, and the addresses mail to which bounced — no
//! automatic reply goes to those until their block ends.

use anyhow::{Context as _, Result};
use time::OffsetDateTime;

use super::Tx;
use crate::domain::OutboxKind;
use crate::text::address::EmailAddress;

impl Tx {
    /// The ticket and kind of the outgoing mail with this Message-ID, if it is ours.
    pub async fn sent_mail(&mut self, message_id: &str) -> Result<Option<(Option<i64>, OutboxKind)>> {
        const SQL: &str = "SELECT ticket_id, kind FROM outbox WHERE message_id = $1 ORDER BY id LIMIT 1";
        db!(self, c => sqlx::query_as(SQL).bind(message_id).fetch_optional(c).await)
            .context("finding the mail a bounce returns")
    }

    /// Blocks automatic replies to `address` until `until` (a later block extends it).
    pub async fn block_address(
        &mut self,
        address: &EmailAddress,
        until: OffsetDateTime,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<()> {
        // Ended blocks go as new ones come: the table holds addresses only as long as it must.
        db!(self, execute, "DELETE FROM blocked_addresses WHERE until < $1", at).context("removing ended blocks")?;
        const SQL: &str = "INSERT INTO blocked_addresses (address, until, reason, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (address) DO UPDATE SET until = $2, reason = $3, at = $4";
        db!(self, execute, SQL, address.as_str(), until, reason, at).context("blocking a bounced address")?;
        Ok(())
    }
}
