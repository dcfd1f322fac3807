//! Which existing ticket a mail answers — its number in the subject (`[RD-2026-000123]`), or a
//! Message-ID in `In-Reply-To`/`References` that belongs to the ticket — and whether its sender may
//! add to it. Ticket numbers are sequential and a subject is easy to write: only the ticket's
//! reporter, the people it was sent to, and staff join a ticket; anyone else who names one opens a
//! new ticket that mentions it.

use anyhow::Result;

use crate::pipeline::Decision;
use crate::store::{TicketBrief, Tx};

/// Who the sender is to the ticket they answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The ticket's reporter: may complete a ticket waiting for details.
    Reporter,
    /// A recipient of the ticket's mail (a contact, the helpdesk): their answer is a comment.
    Recipient,
    /// A staff member, by the address of their account.
    Staff,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Reporter => "reporter",
            Party::Recipient => "recipient",
            Party::Staff => "staff",
        }
    }
}

/// What a mail is to the tickets it names.
#[derive(Debug)]
pub enum Thread {
    /// It answers this ticket, and its sender may add to it.
    Joins(TicketBrief, Party),
    /// It names or answers this ticket, but its sender is none of the ticket's parties.
    Mentions(TicketBrief),
    /// It is about no ticket we know.
    New,
}

pub async fn find(tx: &mut Tx, d: &Decision) -> Result<Thread> {
    let Some(ticket) = named_ticket(tx, d).await? else { return Ok(Thread::New) };
    let Some(sender) = d.mail.from_address() else { return Ok(Thread::Mentions(ticket)) };
    if ticket.reporter.as_deref().is_some_and(|r| sender == r) {
        return Ok(Thread::Joins(ticket, Party::Reporter));
    }
    if tx.is_staff_address(&sender).await? {
        return Ok(Thread::Joins(ticket, Party::Staff));
    }
    if tx.ticket_parties(ticket.id).await?.contains(&sender) {
        return Ok(Thread::Joins(ticket, Party::Recipient));
    }
    Ok(Thread::Mentions(ticket))
}

async fn named_ticket(tx: &mut Tx, d: &Decision) -> Result<Option<TicketBrief>> {
    if let Some(number) = crate::domain::ticket_number::tag_in(&d.mail.subject)
        && let Some(t) = tx.ticket_brief(&number).await?
    {
        return Ok(Some(t));
    }
    let ids: Vec<String> = d.mail.references.iter().chain(&d.mail.in_reply_to).cloned().collect();
    if ids.is_empty() {
        return Ok(None);
    }
    match tx.ticket_for_thread(&ids).await? {
        Some(id) => tx.ticket_brief_by_id(id).await,
        None => Ok(None),
    }
}
