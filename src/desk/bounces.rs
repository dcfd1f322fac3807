//! A bounce of our own mail (RFC 3464 DSN, or a plain one from a mailer daemon): never answered;
//! kept on the ticket whose mail it returns, with an entry in its history, and the failed
//! recipients get no automatic reply until their block ends — a mistyped address is not mailed
//! again with every report.

use anyhow::Result;
use time::OffsetDateTime;

use super::{ACTOR, Desk};
use crate::domain::Verdict;
use crate::domain::event::Event;
use crate::store::Tx;

impl Desk {
    pub(super) async fn bounced(&self, tx: &mut Tx, raw: &[u8], message: i64, now: OffsetDateTime) -> Result<()> {
        let bounce = crate::pipeline::bounce::read(raw);
        let mut returned = None;
        for id in bounce.message_ids.iter().filter(|id| self.ids.is_ours(id)) {
            if let Some(found) = tx.sent_mail(id).await? {
                returned = Some(found);
                break;
            }
        }
        let why = bounce.diagnostic.clone().unwrap_or_else(|| "no reason given".into());
        let until = now + time::Duration::days(i64::from(self.bounce_block_days));
        for address in &bounce.failed {
            tx.block_address(address, until, &why, now).await?;
        }
        if let Some((Some(ticket), kind)) = returned {
            tx.set_message_ticket(message, ticket, Verdict::Ignored).await?;
            let bounced = Event::Bounced {
                mail: kind,
                to: bounce.failed.iter().map(ToString::to_string).collect(),
                why: bounce.diagnostic.clone(),
                until: crate::text::time::when(until),
            };
            tx.record(ticket, now, ACTOR, &bounced).await?;
        }
        Ok(())
    }
}
