//! Which existing ticket a mail answers: its number in the subject (`[RD-2026-000123]`), or a
//! Message-ID in `In-Reply-To`/`References` that belongs to the ticket.

use anyhow::Result;

use crate::pipeline::Decision;
use crate::store::{TicketBrief, Tx};

pub async fn find_ticket(tx: &mut Tx, d: &Decision) -> Result<Option<TicketBrief>> {
    if let Some(number) = ticket_number_in(&d.mail.subject)
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

/// `RD-2026-000123` from a subject such as `SV: [RD-2026-000123] Mangler opplysninger: …`.
pub fn ticket_number_in(subject: &str) -> Option<String> {
    let bytes = subject.as_bytes();
    subject.match_indices("[RD-").find_map(|(i, _)| {
        let tag = bytes.get(i + 1..i + 15)?;
        let ok = tag[3..7].iter().all(u8::is_ascii_digit)
            && tag[7] == b'-'
            && tag[8..14].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 15) == Some(&b']');
        ok.then(|| String::from_utf8_lossy(tag).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::ticket_number_in;

    #[test]
    fn finds_the_tag_in_reply_subjects() {
        assert_eq!(ticket_number_in("SV: [RD-2026-000123] Mangler opplysninger").as_deref(), Some("RD-2026-000123"));
        assert_eq!(ticket_number_in("[RD-2026-12] x"), None);
        assert_eq!(ticket_number_in("[RD-20x6-000123]"), None);
        assert_eq!(ticket_number_in("Re: [RD-2026-000001]").as_deref(), Some("RD-2026-000001"));
        assert_eq!(ticket_number_in("æøå [RD-2026-000001"), None);
    }
}
