//! Why the desk refused a staff member's action, as data: worded in the reader's language where a
//! person reads it (the web view's error page), in English in logs and on the command line.

use std::fmt;

use crate::domain::{IncidentState, PrivacyStage, UnknownValue};
use crate::pipeline::reason::capitalised;
use crate::text::lang::Lang;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnknownMunicipality(String),
    NotResolved,
    UnknownStatus(String),
    NoteLength,
    NoSuchTicket(String),
    LinkedToItself,
    /// A mail set aside that cannot be read as a report, with the reader's words.
    UnreadableMail(String),
    NoTicketMade,
    IncidentIs(IncidentState),
    UpdateText,
    ConfirmFirst,
    NotInIncident {
        ticket: String,
        incident: String,
    },
    NoStaffUser(String),
    StageStep {
        from: PrivacyStage,
        to: PrivacyStage,
    },
    CoordinatorFirst,
    ReportFieldTooLong,
    ReviewNoteRequired,
    CloseFromReview(PrivacyStage),
    CaseClosed(String),
    /// A case whose authority was notified was a breach: it is closed after review, not dismissed.
    NotifiedNotDismissed(String),
    NoVendorAddress,
    VendorAlerted {
        at: String,
    },
    NotVendorCaseNumber {
        entered: String,
        vendor: String,
    },
    AlreadyResolved,
    /// A form value that names no known state, stage, class or filter.
    UnknownValue(UnknownValue),
    /// A form the browser sent broken (the multipart reader's words).
    BrokenForm(String),
}

impl Refusal {
    pub fn text(&self, lang: Lang) -> String {
        let nb = lang == Lang::Nb;
        let pick = |nb_text: String, en_text: String| if nb { nb_text } else { en_text };
        let stage = |s: &PrivacyStage| crate::domain::event::stage_name(*s, lang);
        match self {
            Refusal::UnknownMunicipality(m) => {
                pick(format!("Ukjent kommune «{m}»"), format!("Unknown municipality {m:?}"))
            }
            Refusal::NotResolved => pick("Saken er ikke løst".into(), "The ticket is not resolved".into()),
            Refusal::UnknownStatus(s) => pick(format!("Ukjent status «{s}»"), format!("Unknown status {s:?}")),
            Refusal::NoteLength => {
                pick("Et notat må ha 1 til 10 000 tegn".into(), "A note must have 1 to 10,000 characters".into())
            }
            Refusal::NoSuchTicket(n) => pick(format!("Ingen sak «{n}»"), format!("No ticket {n:?}")),
            Refusal::LinkedToItself => {
                pick("En sak kan ikke kobles til seg selv".into(), "A ticket cannot be linked to itself".into())
            }
            Refusal::UnreadableMail(e) => pick(
                format!("E-posten kan ikke leses som en feilmelding: {e}"),
                format!("This mail cannot be read as a report: {e}"),
            ),
            Refusal::NoTicketMade => pick("Ingen sak ble laget".into(), "No ticket was made".into()),
            Refusal::IncidentIs(s) => {
                let state = crate::domain::event::incident_state_name(*s, lang);
                pick(format!("Hendelsen er {state}"), format!("The incident is {state}"))
            }
            Refusal::UpdateText => pick(
                "En oppdatering må ha en tekst (høyst 10 000 tegn)".into(),
                "An update needs a text (at most 10,000 characters)".into(),
            ),
            Refusal::ConfirmFirst => pick(
                "Bare en bekreftet hendelse har trinn: bekreft den først".into(),
                "Only a confirmed incident has stages: confirm it first".into(),
            ),
            Refusal::NotInIncident { ticket, incident } => {
                pick(format!("{ticket} er ikke i {incident}"), format!("{ticket} is not in {incident}"))
            }
            Refusal::NoStaffUser(u) => pick(format!("Ingen aktiv bruker «{u}»"), format!("No active staff user {u:?}")),
            Refusal::StageStep { from, to } => pick(
                format!("Kan ikke gå fra {} til {}", stage(from), stage(to)),
                format!("Cannot go from {} to {}", stage(from), stage(to)),
            ),
            Refusal::CoordinatorFirst => {
                pick("Utnevn en koordinator først".into(), "Appoint a coordinator first".into())
            }
            Refusal::ReportFieldTooLong => pick(
                "Et felt i rapporten er lengre enn 20 000 tegn".into(),
                "A field of the report is longer than 20,000 characters".into(),
            ),
            Refusal::ReviewNoteRequired => pick(
                "En personvernsak lukkes med et notat fra gjennomgangen".into(),
                "A privacy incident is closed with a review note".into(),
            ),
            Refusal::CloseFromReview(s) => pick(
                format!("Lukk fra gjennomgang, ikke fra {}", stage(s)),
                format!("Close from review, not from {}", stage(s)),
            ),
            Refusal::CaseClosed(n) => pick(format!("{n} er lukket"), format!("{n} is closed")),
            Refusal::NotifiedNotDismissed(n) => pick(
                format!("Datatilsynet er varslet om {n}: saken lukkes etter gjennomgang, den avvises ikke"),
                format!("The authority was notified of {n}: it is closed after review, not dismissed"),
            ),
            Refusal::NoVendorAddress => pick(
                "Regelverket har ingen adresse til leverandøren ([privacy] vendor_alert)".into(),
                "The policy names no vendor address ([privacy] vendor_alert)".into(),
            ),
            Refusal::VendorAlerted { at } => {
                pick(format!("Leverandøren ble varslet {at}"), format!("The vendor was alerted {at}"))
            }
            Refusal::NotVendorCaseNumber { entered, vendor } => pick(
                format!("«{entered}» er ikke et saksnummer hos {vendor}"),
                format!("{entered:?} is not a {vendor} case number"),
            ),
            Refusal::AlreadyResolved => pick("Saken er allerede løst".into(), "The ticket is resolved already".into()),
            Refusal::UnknownValue(v) => {
                pick(format!("«{}» er ikke en gyldig verdi her", v.value), capitalised(&v.to_string()))
            }
            Refusal::BrokenForm(e) => {
                pick(format!("Skjemaet kom ødelagt fram: {e}"), format!("The form arrived broken: {e}"))
            }
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_worded_in_both_languages() {
        let s = |x: &str| x.to_string();
        let all = [
            Refusal::UnknownMunicipality(s("lillehammer")),
            Refusal::NotResolved,
            Refusal::UnknownStatus(s("x")),
            Refusal::NoteLength,
            Refusal::NoSuchTicket(s("RD-1")),
            Refusal::LinkedToItself,
            Refusal::UnreadableMail(s("no headers")),
            Refusal::NoTicketMade,
            Refusal::IncidentIs(IncidentState::Dismissed),
            Refusal::UpdateText,
            Refusal::ConfirmFirst,
            Refusal::NotInIncident { ticket: s("RD-1"), incident: s("HE-1") },
            Refusal::NoStaffUser(s("nobody")),
            Refusal::StageStep { from: PrivacyStage::AlertReceived, to: PrivacyStage::Review },
            Refusal::CoordinatorFirst,
            Refusal::ReportFieldTooLong,
            Refusal::ReviewNoteRequired,
            Refusal::CloseFromReview(PrivacyStage::Assessing),
            Refusal::CaseClosed(s("PRV-1")),
            Refusal::NotifiedNotDismissed(s("PRV-1")),
            Refusal::NoVendorAddress,
            Refusal::VendorAlerted { at: s("2026-12-05 10:00 UTC") },
            Refusal::NotVendorCaseNumber { entered: s("abc"), vendor: s("Visma") },
            Refusal::AlreadyResolved,
            Refusal::UnknownValue(UnknownValue { kind: "ticket status", value: s("done") }),
            Refusal::BrokenForm(s("unexpected end")),
        ];
        const ENGLISH: &[&str] =
            &["the ", "cannot", "unknown", "ticket ", "must", "first", "closed", "already", "not "];
        for r in &all {
            let (nb, en) = (r.text(Lang::Nb), r.text(Lang::En));
            assert_ne!(nb, en, "{r:?}");
            let lower = nb.to_lowercase();
            assert!(!ENGLISH.iter().any(|w| lower.contains(w)), "English in the bokmål of {r:?}: {nb}");
        }
    }
}
