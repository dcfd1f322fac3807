//! What of a ticket's surroundings a viewer may see. A ticket's page shows more than the ticket:
//! linked tickets, mail about the incident it is in, its privacy case, and a history that names
//! other tickets. A municipal user sees none of another municipality's tickets there, and only
//! those who may see a privacy case see its steps.

use std::collections::HashMap;
use std::ops::Range;

use super::AppState;
use super::auth::Staff;
use super::error::WebResult;
use crate::domain::{OutboxKind, Role};
use crate::store::PrivacyRow;

/// Outgoing mail kinds about more than one municipality (for the helpdesk only).
const REGIONAL_MAIL: &[OutboxKind] = &[OutboxKind::Incident];

/// Numbers named in one text that a page may look up; more are all withheld.
const MAX_LOOKUPS: usize = 50;

/// What one viewer may see around one ticket.
pub struct Sight<'a> {
    staff: &'a Staff,
    privacy: bool,
}

impl<'a> Sight<'a> {
    /// `case` is the ticket's privacy case, if it has one.
    pub fn new(staff: &'a Staff, case: Option<&PrivacyRow>) -> Sight<'a> {
        let privacy = match case {
            Some(p) => may_see_privacy_case(staff, p),
            None => sees_every_privacy_case(staff),
        };
        Sight { staff, privacy }
    }

    /// Whether an audit-trail entry of `kind` is shown: a privacy case's steps (its review note,
    /// its coordinator) only to those who may see the case.
    pub fn event(&self, kind: &str) -> bool {
        self.privacy || !kind.starts_with("privacy")
    }

    /// Whether an outgoing mail of `kind` is shown: the incident mail names other municipalities'
    /// reports, the privacy mail the privacy case.
    pub fn mail(&self, kind: OutboxKind) -> bool {
        (self.staff.scope().is_none() || !REGIONAL_MAIL.contains(&kind)) && self.event(kind.as_str())
    }

    /// `texts` with every ticket number the viewer may not see replaced by `withheld`.
    pub async fn redact(&self, state: &AppState, texts: &mut [String], withheld: &str) -> WebResult<()> {
        if self.staff.scope().is_none() {
            return Ok(());
        }
        let mut seen: HashMap<String, bool> = HashMap::new();
        for text in texts.iter_mut() {
            let found = ticket_numbers(text);
            if found.is_empty() {
                continue;
            }
            let mut out = String::with_capacity(text.len());
            let mut at = 0;
            for range in found {
                let number = &text[range.clone()];
                let visible = match seen.get(number) {
                    Some(v) => *v,
                    None if seen.len() < MAX_LOOKUPS => {
                        let m = state.desk.store().municipality_of(number).await?;
                        let v = m.is_some_and(|m| self.staff.can_see(m.as_deref()));
                        seen.insert(number.to_string(), v);
                        v
                    }
                    None => false,
                };
                out.push_str(&text[at..range.start]);
                out.push_str(if visible { number } else { withheld });
                at = range.end;
            }
            out.push_str(&text[at..]);
            *text = out;
        }
        Ok(())
    }
}

/// Admins and data-protection contacts see every privacy case.
pub fn sees_every_privacy_case(staff: &Staff) -> bool {
    matches!(staff.user.role, Role::Admin | Role::Privacy)
}

/// Whether `staff` may see this privacy case: those who see every case, and its coordinator.
pub fn may_see_privacy_case(staff: &Staff, p: &PrivacyRow) -> bool {
    sees_every_privacy_case(staff) || p.coordinator.as_deref() == Some(staff.user.username.as_str())
}

/// Where ticket numbers (`RD-2026-000123`) stand in `text`.
pub fn ticket_numbers(text: &str) -> Vec<Range<usize>> {
    let b = text.as_bytes();
    let digits = |r: Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let word = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_alphanumeric);
    text.match_indices("RD-")
        .map(|(i, _)| i..i + 14)
        .filter(|r| {
            digits(r.start + 3..r.start + 7)
                && b.get(r.start + 7) == Some(&b'-')
                && digits(r.start + 8..r.end)
                && !word(r.start.checked_sub(1))
                && !word(Some(r.end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ticket_numbers;

    #[test]
    fn ticket_numbers_are_found_where_they_stand() {
        let text = "same fault as RD-2026-000012, RD-2026-000013 and 3 more (INC-2026-0001)";
        let found: Vec<&str> = ticket_numbers(text).into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["RD-2026-000012", "RD-2026-000013"]);
        for none in ["RD-2026-00001", "XRD-2026-000012", "RD-2026-0000123", "RD-20x6-000012", "RD-", "æRD-2026"] {
            assert!(ticket_numbers(none).is_empty(), "{none}");
        }
        assert_eq!(ticket_numbers("[RD-2026-000001] ø").len(), 1);
    }
}
