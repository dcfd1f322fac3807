//! What routedesk did with a ticket, as data: an entry of the audit trail keeps its kind and its
//! values, and the words are chosen when a person reads it, in the reader's language. Stored in the
//! event's `detail` as JSON; entries written before were English sentences, shown as they are, as
//! are the kinds not (yet) written as data and a staff member's own words (notes).

use serde::{Deserialize, Serialize};

use crate::domain::{Class, Detail, OutboxKind};
use crate::pipeline::reason::{Withheld, capitalised, class_name, detail_name};
use crate::text::lang::Lang;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A report arrived (`from` is `None` without a valid sender address).
    Received {
        from: Option<String>,
        subject: String,
    },
    /// The routine's details checked: `missing` empty when complete.
    Checked {
        missing: Vec<Detail>,
    },
    /// A reply with details came, and these are still missing.
    StillMissing {
        missing: Vec<Detail>,
    },
    Classified {
        class: Class,
        confidence: f64,
    },
    VendorIssue {
        issue: String,
    },
    /// Held for the reporter's missing details.
    Held,
    /// A reply to the ticket, by `party` (reporter, recipient, staff).
    Reply {
        from: String,
        party: String,
        subject: String,
    },
    /// The reporter sent the missing details.
    Completed,
    /// Routed; `manual` when the helpdesk triages it; `followed_in` the incident the helpdesk
    /// follows instead of a copy.
    Routed {
        manual: bool,
        to: Vec<String>,
        cc: Vec<String>,
        followed_in: Option<String>,
    },
    /// An automatic reply queued.
    Queued {
        mail: OutboxKind,
        to: String,
    },
    /// An automatic reply not sent, for `why`.
    ReplyWithheld {
        mail: OutboxKind,
        to: String,
        why: Withheld,
    },
    /// A mail accepted by the SMTP server.
    Sent {
        mail: OutboxKind,
        to: Vec<String>,
        cc: Vec<String>,
    },
    Reclassified {
        from: Class,
        to: Class,
    },
    /// The municipality changed, by display name (`None`: none).
    MunicipalityChanged {
        from: Option<String>,
        to: Option<String>,
    },
    /// Routed by staff without waiting for the missing details.
    Released,
    /// Made from a mail that had been set aside.
    MadeTicket,
    /// Linked by staff as the same fault as `other`.
    Linked {
        other: String,
    },
}

impl Event {
    /// The kind the audit trail files it under.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Received { .. } => "received",
            Event::Checked { .. } | Event::StillMissing { .. } => "checked",
            Event::Classified { .. } => "classified",
            Event::VendorIssue { .. } => "vendor-issue",
            Event::Held => "held",
            Event::Reply { .. } => "reply",
            Event::Completed => "completed",
            Event::Routed { .. } => "routed",
            Event::Queued { mail, .. } => mail.as_str(),
            Event::ReplyWithheld { .. } => "reply-withheld",
            Event::Sent { .. } => "sent",
            Event::Reclassified { .. } => "reclassified",
            Event::MunicipalityChanged { .. } => "municipality",
            Event::Released => "released",
            Event::MadeTicket => "made-ticket",
            Event::Linked { .. } => "linked",
        }
    }

    /// As stored in the event's `detail`.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The entry in `lang`, as one line.
    pub fn text(&self, lang: Lang) -> String {
        let nb = lang == Lang::Nb;
        let pick = |nb_text: String, en_text: String| if nb { nb_text } else { en_text };
        let details = |d: &[Detail]| d.iter().map(|d| detail_name(*d, lang)).collect::<Vec<_>>().join(", ");
        match self {
            Event::Received { from, subject } => {
                let from =
                    from.clone().unwrap_or_else(|| pick("(ingen gyldig avsender)".into(), "(no valid sender)".into()));
                pick(format!("Melding fra {from}: {subject}"), format!("Report from {from}: {subject}"))
            }
            Event::Checked { missing } if missing.is_empty() => pick(
                "Komplett: skjermbilde, telefon, mobil og e-post er med".into(),
                "Complete: screenshot, phone, mobile and e-mail present".into(),
            ),
            Event::Checked { missing } => {
                pick(format!("Mangler: {}", details(missing)), format!("Missing: {}", details(missing)))
            }
            Event::StillMissing { missing } => {
                pick(format!("Mangler fortsatt: {}", details(missing)), format!("Still missing: {}", details(missing)))
            }
            Event::Classified { class, confidence } => {
                let c = format!("{confidence:.2}");
                pick(
                    format!("{} (sikkerhet {})", class_name(*class, lang), c.replace('.', ",")),
                    format!("{} (confidence {c})", class_name(*class, lang)),
                )
            }
            Event::VendorIssue { issue } => {
                pick(format!("Kjent feil hos leverandøren: {issue}"), format!("Known vendor issue: {issue}"))
            }
            Event::Held => pick(
                "Venter på opplysningene som mangler fra innmelderen".into(),
                "Waiting for the reporter's missing details".into(),
            ),
            Event::Reply { from, party, subject } => {
                let who = party_name(party, lang);
                pick(format!("Svar fra {from} ({who}): {subject}"), format!("Reply from {from} ({who}): {subject}"))
            }
            Event::Completed => pick(
                "Innmelderen sendte opplysningene som manglet".into(),
                "The reporter sent the missing details".into(),
            ),
            Event::Routed { manual, to, cc, followed_in } => {
                let (to, cc) = (to.join(", "), copies(cc, lang));
                let manual = if *manual {
                    pick("til manuell vurdering: ".into(), "manual triage: ".into())
                } else {
                    String::new()
                };
                let followed = followed_in.as_ref().map_or_else(String::new, |inc| {
                    pick(
                        format!(" (brukerstøtten følger {inc} i stedet for en kopi)"),
                        format!(" (the helpdesk follows {inc} instead of a copy)"),
                    )
                });
                pick(
                    format!("Sendt videre, {manual}til {to}{cc}{followed}"),
                    format!("Routed, {manual}to {to}{cc}{followed}"),
                )
            }
            Event::Queued { mail, to } => pick(
                format!("{} lagt i kø til {to}", capitalised(mail_name(*mail, lang))),
                format!("{} queued to {to}", capitalised(mail_name(*mail, lang))),
            ),
            Event::ReplyWithheld { mail, to, why } => pick(
                format!("Ingen {} til {to}: {}", mail_name(*mail, lang), why.text(lang)),
                format!("No {} to {to}: {}", mail_name(*mail, lang), why.text(lang)),
            ),
            Event::Sent { mail, to, cc } => {
                let (mail, to, cc) = (capitalised(mail_name(*mail, lang)), to.join(", "), copies(cc, lang));
                pick(format!("{mail} sendt til {to}{cc}"), format!("{mail} sent to {to}{cc}"))
            }
            Event::Reclassified { from, to } => format!("{} → {}", class_name(*from, lang), class_name(*to, lang)),
            Event::MunicipalityChanged { from, to } => {
                let none = || pick("ingen".into(), "none".into());
                format!("{} → {}", from.clone().unwrap_or_else(none), to.clone().unwrap_or_else(none))
            }
            Event::Released => pick(
                "Sendt videre uten å vente på opplysningene som mangler".into(),
                "Routed without waiting for the missing details".into(),
            ),
            Event::MadeTicket => pick(
                "Opprettet fra en e-post som var lagt til side".into(),
                "From a mail that had been set aside".into(),
            ),
            Event::Linked { other } => pick(format!("Samme feil som {other}"), format!("Same fault as {other}")),
        }
    }
}

/// An audit entry's detail for a reader: an [`Event`] in `lang`, or what was written before events
/// were data (and a person's own words) as it is.
pub fn detail_text(detail: &str, lang: Lang) -> String {
    if detail.starts_with('{')
        && let Ok(event) = serde_json::from_str::<Event>(detail)
    {
        return event.text(lang);
    }
    detail.to_string()
}

/// `; kopi a, b` (`; cc a, b`), or nothing without copies.
fn copies(cc: &[String], lang: Lang) -> String {
    match (cc.is_empty(), lang) {
        (true, _) => String::new(),
        (false, Lang::Nb) => format!("; kopi {}", cc.join(", ")),
        (false, Lang::En) => format!("; cc {}", cc.join(", ")),
    }
}

fn party_name(party: &str, lang: Lang) -> &str {
    match (party, lang) {
        ("reporter", Lang::Nb) => "innmelderen",
        ("recipient", Lang::Nb) => "mottaker av saken",
        ("staff", Lang::Nb) => "ansatt",
        ("recipient", Lang::En) => "a recipient of the ticket",
        (other, _) => other,
    }
}

/// An outgoing mail's kind as named in a sentence.
pub fn mail_name(kind: OutboxKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (OutboxKind::Routing, Lang::Nb) => "videresending",
        (OutboxKind::Acknowledgement, Lang::Nb) => "kvittering",
        (OutboxKind::RequestInfo, Lang::Nb) => "spørsmål om opplysninger",
        (OutboxKind::Incident, Lang::Nb) => "varsel om mulig hendelse",
        (OutboxKind::Alert, Lang::Nb) => "driftsvarsel",
        (OutboxKind::Privacy, Lang::Nb) => "varsel om personvernhendelse",
        (OutboxKind::PrivacyDeadline, Lang::Nb) => "påminnelse om personvernfrist",
        (OutboxKind::Routing, Lang::En) => "routing mail",
        (OutboxKind::Acknowledgement, Lang::En) => "acknowledgement",
        (OutboxKind::RequestInfo, Lang::En) => "request for details",
        (OutboxKind::Incident, Lang::En) => "suspected-incident notice",
        (OutboxKind::Alert, Lang::En) => "operations alert",
        (OutboxKind::Privacy, Lang::En) => "privacy-incident notice",
        (OutboxKind::PrivacyDeadline, Lang::En) => "privacy deadline reminder",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Event> {
        let s = |x: &str| x.to_string();
        let all = vec![
            Event::Received { from: Some(s("kari@gjovik.kommune.no")), subject: s("Lønn feiler") },
            Event::Received { from: None, subject: s("Lønn feiler") },
            Event::Checked { missing: vec![] },
            Event::Checked { missing: vec![Detail::Screenshot] },
            Event::StillMissing { missing: vec![Detail::Phone, Detail::Mobile] },
            Event::Classified { class: Class::Application, confidence: 0.875 },
            Event::VendorIssue { issue: s("Innlogging feiler (identified)") },
            Event::Held,
            Event::Reply { from: s("kari@gjovik.kommune.no"), party: s("reporter"), subject: s("Sv: Lønn") },
            Event::Completed,
            Event::Routed { manual: true, to: vec![s("a@x.no")], cc: vec![s("b@x.no")], followed_in: Some(s("HE-1")) },
            Event::Queued { mail: OutboxKind::Acknowledgement, to: s("kari@gjovik.kommune.no") },
            Event::ReplyWithheld { mail: OutboxKind::RequestInfo, to: s("kari@x.no"), why: Withheld::NullSender },
            Event::Sent { mail: OutboxKind::Routing, to: vec![s("a@x.no")], cc: vec![] },
            Event::Reclassified { from: Class::Operations, to: Class::Access },
            Event::MunicipalityChanged { from: None, to: Some(s("Gjøvik kommune")) },
            Event::Released,
            Event::MadeTicket,
            Event::Linked { other: s("RD-2026-000001") },
        ];
        for e in &all {
            // A new kind fails to compile here until it has a sample above.
            match e {
                Event::Received { .. }
                | Event::Checked { .. }
                | Event::StillMissing { .. }
                | Event::Classified { .. }
                | Event::VendorIssue { .. }
                | Event::Held
                | Event::Reply { .. }
                | Event::Completed
                | Event::Routed { .. }
                | Event::Queued { .. }
                | Event::ReplyWithheld { .. }
                | Event::Sent { .. }
                | Event::Reclassified { .. }
                | Event::MunicipalityChanged { .. }
                | Event::Released
                | Event::MadeTicket
                | Event::Linked { .. } => {}
            }
        }
        all
    }

    /// English words the audit trail was written in before its entries were data.
    const ENGLISH: &[&str] = &[
        "report",
        "from",
        "complete",
        "present",
        "missing",
        "still",
        "confidence",
        "known",
        "issue",
        "waiting",
        "reply",
        "the",
        "sent",
        "routed",
        "manual",
        "triage",
        "to",
        "cc",
        "queued",
        "same",
        "fault",
        "as",
        "routing",
        "acknowledgement",
        "request",
        "without",
        "none",
        "operations",
        "access",
        "application",
    ];

    #[test]
    fn every_entry_reads_in_bokmal_and_english_and_back_from_storage() {
        for e in every_kind() {
            let nb = e.text(Lang::Nb);
            for word in nb.to_lowercase().split(|c: char| !c.is_alphanumeric()) {
                assert!(!ENGLISH.contains(&word), "{word:?} in the bokmål of {e:?}: {nb}");
            }
            assert!(!e.text(Lang::En).is_empty(), "{e:?}");
            for lang in Lang::ALL {
                assert_eq!(detail_text(&e.to_stored(), lang), e.text(lang), "{e:?}");
            }
        }
        assert_eq!(
            Event::Classified { class: Class::Application, confidence: 0.875 }.text(Lang::Nb),
            "programfeil / faglig feil (sikkerhet 0,88)"
        );
        assert_eq!(Event::Queued { mail: OutboxKind::Acknowledgement, to: "a@x.no".into() }.kind(), "acknowledgement");
    }

    #[test]
    fn entries_written_before_and_a_persons_words_show_as_written() {
        for old in ["report from kari@x.no: Lønn", "{not json", "Ringt melder, venter på Visma", ""] {
            assert_eq!(detail_text(old, Lang::Nb), old);
        }
    }
}
