//! What routedesk did with a ticket, as data: an entry of the audit trail keeps its kind and its
//! values, and the words are chosen when a person reads it, in the reader's language. Stored in the
//! event's `detail` as JSON; entries written before were English sentences, shown as they are, as
//! are the kinds not (yet) written as data and a staff member's own words (notes).

use serde::{Deserialize, Serialize};

use crate::domain::{Class, Detail, IncidentState, OutboxKind, PrivacyStage, TicketStatus};
use crate::pipeline::reason::{Withheld, capitalised, class_name, detail_name, number};
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
    /// Grouped with reports of the same fault (`with` the first of them, `more` the rest).
    Grouped {
        with: Vec<String>,
        more: i64,
        incident: String,
        similarity: f64,
    },
    /// A suspected incident raised, and the helpdesk told once.
    IncidentRaised {
        incident: String,
        to: String,
    },
    IncidentConfirmed {
        incident: String,
    },
    IncidentDismissed {
        incident: String,
    },
    /// Taken out of an incident: another fault.
    Ungrouped {
        incident: String,
    },
    /// The sender names another ticket but is not one of its parties: not added to it.
    Mentions {
        other: String,
    },
    /// Another ticket's sender named this ticket.
    Mentioned {
        by: String,
        /// `None` once the mentioning ticket's personal data is purged.
        from: Option<String>,
    },
    /// The sender's check by our mail server (`dkim=pass (by mx.example)`); `failed` when not
    /// verified.
    SenderCheck {
        result: String,
        failed: bool,
    },
    /// Mail to `to` bounced, for `why` (the server's words, if it gave any); no automatic reply
    /// until `until`.
    Bounced {
        mail: OutboxKind,
        to: Vec<String>,
        why: Option<String>,
        until: String,
    },
    PrivacyFlagged,
    /// A privacy incident opened, to be reported to the authority by `deadline`.
    PrivacyOpened {
        case: String,
        deadline: String,
    },
    PrivacyNobodyToTell,
    PrivacyTold {
        to: Vec<String>,
    },
    PrivacyCoordinator {
        case: String,
        user: String,
    },
    PrivacyStageChanged {
        case: String,
        from: PrivacyStage,
        to: PrivacyStage,
    },
    PrivacyReported {
        case: String,
        crisis: bool,
    },
    PrivacyAuthorityNotified {
        case: String,
        late: bool,
    },
    PrivacyClosed {
        case: String,
        note: String,
    },
    /// Staff found the flag false: not a personal-data breach.
    PrivacyDismissed {
        case: String,
        note: String,
    },
    PrivacyDeadlineWarned {
        case: String,
        to: Vec<String>,
    },
    /// An automatic reply not sent: mail to `to` bounced, blocked until `until`.
    ReplyBlocked {
        mail: OutboxKind,
        to: String,
        until: String,
    },
    /// An automatic reply not sent: `count` replies to `to` in the last hour (the per-sender limit).
    ReplyCapSender {
        mail: OutboxKind,
        to: String,
        count: i64,
    },
    /// An automatic reply not sent: `count` replies to all senders in the last hour (the limit).
    ReplyCapAll {
        mail: OutboxKind,
        to: String,
        count: i64,
    },
    /// Personal data removed by the retention policy: `resolved` more than `days` ago, or never
    /// resolved and unchanged that long.
    Purged {
        resolved: bool,
        days: u32,
    },
    /// A person's data removed at their request (GDPR art. 17).
    Erased,
    /// Resolved or reopened by staff.
    StatusChanged {
        from: TicketStatus,
        to: TicketStatus,
    },
    /// The routing mail asked the contacts to report the fault to the vendor and send its case number.
    VendorCaseAsked {
        vendor: String,
    },
    /// The vendor's case number, from a contact's reply (`by_mail`) or the web view.
    VendorCaseRecorded {
        vendor: String,
        case: String,
        by_mail: bool,
    },
    /// The case is (or is no longer) reported open for all in the region.
    VendorOpenToRegion {
        open: bool,
    },
    /// No case number after the policy's working hours: the contacts reminded once.
    VendorReminded {
        vendor: String,
        to: Vec<String>,
    },
    /// The vendor solved it: the ticket is resolved.
    VendorResolved {
        vendor: String,
        case: Option<String>,
    },
    /// Mail to the reporter not sent: routedesk never answered that address on this ticket (an
    /// unverified or unanswered sender is never written to first).
    ReporterNotTold {
        mail: OutboxKind,
        to: Option<String>,
    },
    /// A contact asked the reporter a question.
    QuestionAsked {
        question: String,
    },
    /// The reporter answered a contact's question: the answer went on to the contacts.
    QuestionAnswered {
        to: Vec<String>,
    },
    /// The privacy case's alert to the vendor (as data processor).
    PrivacyVendorAlerted {
        case: String,
        to: String,
    },
    /// The vendor's answer to the alert, recorded on the case.
    PrivacyVendorAnswered {
        case: String,
        answer: String,
    },
    /// A mail the server refused for good, with its words.
    DeliveryFailed {
        mail: OutboxKind,
        to: Vec<String>,
        cc: Vec<String>,
        error: String,
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
            Event::Grouped { .. } => "grouped",
            Event::IncidentRaised { .. } | Event::IncidentConfirmed { .. } | Event::IncidentDismissed { .. } => {
                "incident"
            }
            Event::Ungrouped { .. } => "ungrouped",
            Event::Mentions { .. } => "mentions",
            Event::Mentioned { .. } => "mentioned",
            Event::SenderCheck { .. } => "sender-check",
            Event::Bounced { .. } => "bounced",
            Event::PrivacyFlagged => "privacy",
            Event::PrivacyOpened { .. } | Event::PrivacyNobodyToTell | Event::PrivacyTold { .. } => "privacy-incident",
            Event::PrivacyCoordinator { .. } => "privacy-coordinator",
            Event::PrivacyStageChanged { .. } => "privacy-stage",
            Event::PrivacyReported { .. } => "privacy-report",
            Event::PrivacyAuthorityNotified { .. } => "privacy-authority",
            Event::PrivacyClosed { .. } => "privacy-closed",
            Event::PrivacyDismissed { .. } => "privacy-dismissed",
            Event::PrivacyDeadlineWarned { .. } => "privacy-deadline",
            Event::ReplyBlocked { .. } | Event::ReplyCapSender { .. } | Event::ReplyCapAll { .. } => "reply-suppressed",
            Event::Purged { .. } => "purged",
            Event::Erased => "erased",
            Event::StatusChanged { to: TicketStatus::Resolved, .. } => "resolved",
            Event::StatusChanged { .. } => "reopened",
            Event::DeliveryFailed { .. } => "delivery-failed",
            Event::VendorCaseAsked { .. } | Event::VendorCaseRecorded { .. } | Event::VendorOpenToRegion { .. } => {
                "vendor-case"
            }
            Event::VendorReminded { .. } => "vendor-reminder",
            Event::VendorResolved { .. } => "vendor-resolved",
            Event::ReporterNotTold { .. } => "reply-withheld",
            Event::QuestionAsked { .. } | Event::QuestionAnswered { .. } => "question",
            Event::PrivacyVendorAlerted { .. } | Event::PrivacyVendorAnswered { .. } => "privacy-vendor",
        }
    }

    /// As stored in the event's `detail`.
    pub fn to_stored(&self) -> String {
        crate::text::stored::to_stored(self)
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
                let (class, c) = (class_name(*class, lang), number(*confidence, 2, lang));
                pick(format!("{class} (sikkerhet {c})"), format!("{class} (confidence {c})"))
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
            Event::Grouped { with, more, incident, similarity } => {
                let with = with.join(", ");
                let sim = number(*similarity, 2, lang);
                match (*more > 0, lang) {
                    (true, Lang::Nb) => format!("Samme feil som {with} og {more} til ({incident}, likhet {sim})"),
                    (false, Lang::Nb) => format!("Samme feil som {with} ({incident}, likhet {sim})"),
                    (true, Lang::En) => format!("Same fault as {with} and {more} more ({incident}, similarity {sim})"),
                    (false, Lang::En) => format!("Same fault as {with} ({incident}, similarity {sim})"),
                }
            }
            Event::IncidentRaised { incident, to } => pick(
                format!("{incident} opprettet: én e-post til {to}"),
                format!("{incident} raised: one mail to {to}"),
            ),
            Event::IncidentConfirmed { incident } => {
                pick(format!("{incident} bekreftet"), format!("{incident} confirmed"))
            }
            Event::IncidentDismissed { incident } => {
                pick(format!("{incident} avvist"), format!("{incident} dismissed"))
            }
            Event::Ungrouped { incident } => {
                pick(format!("Tatt ut av {incident}: en annen feil"), format!("Taken out of {incident}: another fault"))
            }
            Event::Mentions { other } => pick(
                format!(
                    "Nevner {other} (avsenderen er verken innmelder, mottaker eller ansatt der: ikke lagt til den)"
                ),
                format!("Mentions {other} (the sender is not its reporter, a recipient or staff: not added to it)"),
            ),
            Event::Mentioned { by, from: Some(from) } => {
                pick(format!("{by} fra {from} nevner denne saken"), format!("{by} from {from} mentions this ticket"))
            }
            Event::Mentioned { by, from: None } => {
                pick(format!("{by} nevner denne saken"), format!("{by} mentions this ticket"))
            }
            Event::SenderCheck { result, failed: false } => result.clone(),
            Event::SenderCheck { result, failed: true } => pick(
                format!("{result} — avsenderen er IKKE verifisert: intet automatisk svar, ikke lagt til en annen sak"),
                format!("{result} — the sender is NOT verified: no automatic reply, no joining of tickets"),
            ),
            Event::Bounced { mail, to, why, until } => {
                let mail = capitalised(mail_name(*mail, lang));
                let to = if to.is_empty() { pick("en mottaker".into(), "a recipient".into()) } else { to.join(", ") };
                let why = why.clone().unwrap_or_else(|| pick("ingen grunn oppgitt".into(), "no reason given".into()));
                pick(
                    format!("{mail} til {to} kom i retur: {why}; intet automatisk svar dit før {until}"),
                    format!("{mail} to {to} bounced: {why}; no automatic reply to it until {until}"),
                )
            }
            Event::PrivacyFlagged => pick("Merket som personvernsak".into(), "Flagged as a privacy matter".into()),
            Event::PrivacyOpened { case, deadline } => pick(
                format!("{case} opprettet: meld til Datatilsynet innen {deadline}"),
                format!("{case} opened: notify the authority by {deadline}"),
            ),
            Event::PrivacyNobodyToTell => pick(
                "Ingen personvernkontakt i regelverket å varsle".into(),
                "No data-protection contact in the policy to tell".into(),
            ),
            Event::PrivacyTold { to } => pick(
                format!("Personvernkontaktene varslet: {}", to.join(", ")),
                format!("Data-protection contacts told: {}", to.join(", ")),
            ),
            Event::PrivacyCoordinator { case, user } => {
                pick(format!("{case}: koordinator {user}"), format!("{case}: coordinator {user}"))
            }
            Event::PrivacyStageChanged { case, from, to } => {
                format!("{case}: {} → {}", stage_name(*from, lang), stage_name(*to, lang))
            }
            Event::PrivacyReported { case, crisis } => {
                let (nb_crisis, en_crisis) = if *crisis { (" (krise)", " (crisis)") } else { ("", "") };
                pick(
                    format!("{case}: avviksrapporten oppdatert{nb_crisis}"),
                    format!("{case}: incident report updated{en_crisis}"),
                )
            }
            Event::PrivacyAuthorityNotified { case, late } => {
                let (nb_late, en_late) =
                    if *late { (" — etter 72-timersfristen", " — after the 72-hour deadline") } else { ("", "") };
                pick(
                    format!("{case}: Datatilsynet varslet{nb_late}"),
                    format!("{case}: the data-protection authority notified{en_late}"),
                )
            }
            Event::PrivacyClosed { case, note } => {
                pick(format!("{case} lukket: {note}"), format!("{case} closed: {note}"))
            }
            Event::PrivacyDismissed { case, note } => pick(
                format!("{case} avvist, ikke et brudd på personopplysningssikkerheten: {note}"),
                format!("{case} dismissed, not a personal-data breach: {note}"),
            ),
            Event::PrivacyDeadlineWarned { case, to } => pick(
                format!("{case}: varsel om fristen til {}", to.join(", ")),
                format!("{case}: deadline warning to {}", to.join(", ")),
            ),
            Event::ReplyBlocked { mail, to, until } => pick(
                format!("Ingen {} til {to}: e-post dit kom i retur (sperret til {until})", mail_name(*mail, lang)),
                format!("No {} to {to}: mail to it bounced (blocked until {until})", mail_name(*mail, lang)),
            ),
            Event::ReplyCapSender { mail, to, count } => pick(
                format!(
                    "Ingen {} til {to}: {count} automatiske svar den siste timen (grensen)",
                    mail_name(*mail, lang)
                ),
                format!("No {} to {to}: {count} automatic replies in the last hour (limit)", mail_name(*mail, lang)),
            ),
            Event::ReplyCapAll { mail, to, count } => pick(
                format!(
                    "Ingen {} til {to}: {count} automatiske svar fra brukerstøtten den siste timen (grensen for alle avsendere)",
                    mail_name(*mail, lang)
                ),
                format!(
                    "No {} to {to}: {count} automatic replies from the helpdesk in the last hour (limit for all senders)",
                    mail_name(*mail, lang)
                ),
            ),
            Event::Purged { resolved: true, days } => pick(
                format!("Personopplysninger slettet: løst for mer enn {days} dager siden (oppbevaringsreglene)"),
                format!("Personal data removed: resolved more than {days} days ago (retention policy)"),
            ),
            Event::Purged { resolved: false, days } => pick(
                format!("Personopplysninger slettet: aldri løst, uendret i mer enn {days} dager (oppbevaringsreglene)"),
                format!(
                    "Personal data removed: never resolved, unchanged for more than {days} days (retention policy)"
                ),
            ),
            Event::Erased => pick(
                "En persons opplysninger slettet etter krav fra personen (GDPR art. 17)".into(),
                "A person's data removed at their request (GDPR art. 17)".into(),
            ),
            Event::StatusChanged { from, to } => format!("{} → {}", status_name(*from, lang), status_name(*to, lang)),
            Event::DeliveryFailed { mail, to, cc, error } => {
                let (mail, to, cc) = (capitalised(mail_name(*mail, lang)), to.join(", "), copies(cc, lang));
                pick(format!("{mail} til {to}{cc}: {error}"), format!("{mail} to {to}{cc}: {error}"))
            }
            Event::VendorCaseAsked { vendor } => pick(
                format!("Videresendingen ber systemansvarlig melde feilen til {vendor} og svare med saksnummeret"),
                format!(
                    "The routing mail asks the system administrator to report it to {vendor} and reply with the case number"
                ),
            ),
            Event::VendorCaseRecorded { vendor, case, by_mail } => {
                let (nb_how, en_how) = if *by_mail { (" (svar på e-post)", " (reply by mail)") } else { ("", "") };
                pick(format!("{vendor}-sak {case}{nb_how}"), format!("{vendor} case {case}{en_how}"))
            }
            Event::VendorOpenToRegion { open: true } => {
                pick("Meldt åpen for alle i regionen".into(), "Reported open for all in the region".into())
            }
            Event::VendorOpenToRegion { open: false } => {
                pick("Ikke meldt åpen for alle i regionen".into(), "Not reported open for all in the region".into())
            }
            Event::VendorReminded { vendor, to } => pick(
                format!("Påminnelse om {vendor}-saksnummer til {}", to.join(", ")),
                format!("Reminder of the {vendor} case number to {}", to.join(", ")),
            ),
            Event::VendorResolved { vendor, case: Some(case) } => {
                pick(format!("{vendor}-sak {case} løst"), format!("{vendor} case {case} resolved"))
            }
            Event::VendorResolved { vendor, case: None } => {
                pick(format!("Løst hos {vendor}"), format!("Resolved by {vendor}"))
            }
            Event::ReporterNotTold { mail, to } => {
                let to = to.clone().unwrap_or_else(|| pick("innmelderen".into(), "the reporter".into()));
                pick(
                    format!(
                        "Ingen {} til {to}: brukerstøtten har aldri svart den adressen i denne saken",
                        mail_name(*mail, lang)
                    ),
                    format!(
                        "No {} to {to}: the helpdesk never answered that address on this ticket",
                        mail_name(*mail, lang)
                    ),
                )
            }
            Event::QuestionAsked { question } => {
                pick(format!("Spørsmål til innmelderen: {question}"), format!("Question to the reporter: {question}"))
            }
            Event::QuestionAnswered { to } => pick(
                format!("Innmelderen svarte; svaret sendt til {}", to.join(", ")),
                format!("The reporter answered; the answer went to {}", to.join(", ")),
            ),
            Event::PrivacyVendorAlerted { case, to } => {
                pick(format!("{case}: leverandøren varslet ({to})"), format!("{case}: the vendor alerted ({to})"))
            }
            Event::PrivacyVendorAnswered { case, answer } => pick(
                format!("{case}: svar fra leverandøren: {answer}"),
                format!("{case}: the vendor's answer: {answer}"),
            ),
        }
    }
}

/// How every stored `mentioned` entry of `by` begins, whoever sent it (serde writes the tag, then
/// the fields in order): what a purge looks for.
pub fn mentioned_prefix(by: &str) -> String {
    let stored = Event::Mentioned { by: by.to_string(), from: None }.to_stored();
    stored.strip_suffix(r#""from":null}"#).unwrap_or(&stored).to_string()
}

/// An audit entry's detail for a reader: an [`Event`] in `lang`, or what was written before events
/// were data (and a person's own words) as it is.
pub fn detail_text(detail: &str, lang: Lang) -> String {
    crate::text::stored::from_stored::<Event>(detail).map_or_else(|| detail.to_string(), |e| e.text(lang))
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

fn status_name(status: TicketStatus, lang: Lang) -> &'static str {
    match (status, lang) {
        (TicketStatus::AwaitingInfo, Lang::Nb) => "venter på melder",
        (TicketStatus::Triage, Lang::Nb) => "manuell vurdering",
        (TicketStatus::Routed, Lang::Nb) => "sendt videre",
        (TicketStatus::Resolved, Lang::Nb) => "løst",
        (TicketStatus::AwaitingInfo, Lang::En) => "awaiting the reporter",
        (TicketStatus::Triage, Lang::En) => "manual triage",
        (TicketStatus::Routed, Lang::En) => "routed",
        (TicketStatus::Resolved, Lang::En) => "resolved",
    }
}

pub fn stage_name(stage: PrivacyStage, lang: Lang) -> &'static str {
    match (stage, lang) {
        (PrivacyStage::AlertReceived, Lang::Nb) => "varsel mottatt",
        (PrivacyStage::Assessing, Lang::Nb) => "vurdering",
        (PrivacyStage::Review, Lang::Nb) => "gjennomgang",
        (PrivacyStage::Closed, Lang::Nb) => "lukket",
        (PrivacyStage::AlertReceived, Lang::En) => "alert received",
        (PrivacyStage::Assessing, Lang::En) => "assessing",
        (PrivacyStage::Review, Lang::En) => "review",
        (PrivacyStage::Closed, Lang::En) => "closed",
    }
}

/// An incident's state as named in a sentence.
pub fn incident_state_name(state: IncidentState, lang: Lang) -> &'static str {
    match (state, lang) {
        (IncidentState::Group, Lang::Nb) => "en gruppe av samme feil",
        (IncidentState::Suspected, Lang::Nb) => "mistenkt",
        (IncidentState::Confirmed, Lang::Nb) => "bekreftet",
        (IncidentState::Dismissed, Lang::Nb) => "avvist",
        (IncidentState::Group, Lang::En) => "a group of the same fault",
        (IncidentState::Suspected, Lang::En) => "suspected",
        (IncidentState::Confirmed, Lang::En) => "confirmed",
        (IncidentState::Dismissed, Lang::En) => "dismissed",
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
        (OutboxKind::VendorReminder, Lang::Nb) => "påminnelse om leverandørsak",
        (OutboxKind::Resolved, Lang::Nb) => "melding om at feilen er løst",
        (OutboxKind::Question, Lang::Nb) => "spørsmål til innmelderen",
        (OutboxKind::Answer, Lang::Nb) => "svar fra innmelderen",
        (OutboxKind::PrivacyVendorAlert, Lang::Nb) => "varsel til leverandøren om personvernhendelse",
        (OutboxKind::Routing, Lang::En) => "routing mail",
        (OutboxKind::Acknowledgement, Lang::En) => "acknowledgement",
        (OutboxKind::RequestInfo, Lang::En) => "request for details",
        (OutboxKind::Incident, Lang::En) => "suspected-incident notice",
        (OutboxKind::Alert, Lang::En) => "operations alert",
        (OutboxKind::Privacy, Lang::En) => "privacy-incident notice",
        (OutboxKind::PrivacyDeadline, Lang::En) => "privacy deadline reminder",
        (OutboxKind::VendorReminder, Lang::En) => "vendor case reminder",
        (OutboxKind::Resolved, Lang::En) => "notice that the fault is resolved",
        (OutboxKind::Question, Lang::En) => "question to the reporter",
        (OutboxKind::Answer, Lang::En) => "the reporter's answer",
        (OutboxKind::PrivacyVendorAlert, Lang::En) => "privacy alert to the vendor",
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
            Event::Grouped { with: vec![s("RD-1"), s("RD-2")], more: 3, incident: s("HE-1"), similarity: 0.82 },
            Event::Grouped { with: vec![s("RD-1")], more: 0, incident: s("HE-1"), similarity: 0.5 },
            Event::IncidentRaised { incident: s("HE-1"), to: s("pureservice@gjovik.kommune.no") },
            Event::IncidentConfirmed { incident: s("HE-1") },
            Event::IncidentDismissed { incident: s("HE-1") },
            Event::Ungrouped { incident: s("HE-1") },
            Event::Mentions { other: s("RD-2") },
            Event::Mentioned { by: s("RD-3"), from: Some(s("ola@x.no")) },
            Event::Mentioned { by: s("RD-3"), from: None },
            Event::SenderCheck { result: s("dmarc=fail (by mx.gjovik.kommune.no)"), failed: true },
            Event::Bounced {
                mail: OutboxKind::Acknowledgement,
                to: vec![s("ola@x.no")],
                why: Some(s("550 5.1.1")),
                until: s("5. des. 10:00"),
            },
            Event::PrivacyFlagged,
            Event::PrivacyOpened { case: s("PV-1"), deadline: s("8. des. 10:00") },
            Event::PrivacyNobodyToTell,
            Event::PrivacyTold { to: vec![s("personvern@gjovik.kommune.no")] },
            Event::PrivacyCoordinator { case: s("PV-1"), user: s("kari") },
            Event::PrivacyStageChanged {
                case: s("PV-1"),
                from: PrivacyStage::AlertReceived,
                to: PrivacyStage::Assessing,
            },
            Event::PrivacyReported { case: s("PV-1"), crisis: true },
            Event::PrivacyAuthorityNotified { case: s("PV-1"), late: true },
            Event::PrivacyClosed { case: s("PV-1"), note: s("Ingen risiko") },
            Event::PrivacyDismissed { case: s("PV-1"), note: s("Feilmelding fra Altinn") },
            Event::PrivacyDeadlineWarned { case: s("PV-1"), to: vec![s("kari@gjovik.kommune.no")] },
            Event::ReplyBlocked { mail: OutboxKind::Acknowledgement, to: s("ola@x.no"), until: s("12. des. 10:00") },
            Event::ReplyCapSender { mail: OutboxKind::RequestInfo, to: s("ola@x.no"), count: 5 },
            Event::ReplyCapAll { mail: OutboxKind::Acknowledgement, to: s("ola@x.no"), count: 200 },
            Event::Purged { resolved: true, days: 730 },
            Event::Purged { resolved: false, days: 1095 },
            Event::Erased,
            Event::StatusChanged { from: TicketStatus::Routed, to: TicketStatus::Resolved },
            Event::StatusChanged { from: TicketStatus::Resolved, to: TicketStatus::Routed },
            Event::DeliveryFailed {
                mail: OutboxKind::Routing,
                to: vec![s("a@x.no")],
                cc: vec![s("b@x.no")],
                error: s("550 5.1.1 <a@x.no>: Recipient address rejected"),
            },
            Event::VendorCaseAsked { vendor: s("Visma") },
            Event::VendorCaseRecorded { vendor: s("Visma"), case: s("12345678"), by_mail: true },
            Event::VendorCaseRecorded { vendor: s("Visma"), case: s("12345678"), by_mail: false },
            Event::VendorOpenToRegion { open: true },
            Event::VendorOpenToRegion { open: false },
            Event::VendorReminded { vendor: s("Visma"), to: vec![s("a@x.no")] },
            Event::VendorResolved { vendor: s("Visma"), case: Some(s("12345678")) },
            Event::VendorResolved { vendor: s("Visma"), case: None },
            Event::ReporterNotTold { mail: OutboxKind::Resolved, to: Some(s("ola@x.no")) },
            Event::QuestionAsked { question: s("Hvilken periode?") },
            Event::QuestionAnswered { to: vec![s("a@x.no")] },
            Event::PrivacyVendorAlerted { case: s("PV-1"), to: s("security@vendor.example") },
            Event::PrivacyVendorAnswered { case: s("PV-1"), answer: s("Mottatt, vi undersøker") },
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
                | Event::Linked { .. }
                | Event::Grouped { .. }
                | Event::IncidentRaised { .. }
                | Event::IncidentConfirmed { .. }
                | Event::IncidentDismissed { .. }
                | Event::Ungrouped { .. }
                | Event::Mentions { .. }
                | Event::Mentioned { .. }
                | Event::SenderCheck { .. }
                | Event::Bounced { .. }
                | Event::PrivacyFlagged
                | Event::PrivacyOpened { .. }
                | Event::PrivacyNobodyToTell
                | Event::PrivacyTold { .. }
                | Event::PrivacyCoordinator { .. }
                | Event::PrivacyStageChanged { .. }
                | Event::PrivacyReported { .. }
                | Event::PrivacyAuthorityNotified { .. }
                | Event::PrivacyClosed { .. }
                | Event::PrivacyDismissed { .. }
                | Event::PrivacyDeadlineWarned { .. }
                | Event::ReplyBlocked { .. }
                | Event::ReplyCapSender { .. }
                | Event::ReplyCapAll { .. }
                | Event::Purged { .. }
                | Event::Erased
                | Event::StatusChanged { .. }
                | Event::DeliveryFailed { .. }
                | Event::VendorCaseAsked { .. }
                | Event::VendorCaseRecorded { .. }
                | Event::VendorOpenToRegion { .. }
                | Event::VendorReminded { .. }
                | Event::VendorResolved { .. }
                | Event::ReporterNotTold { .. }
                | Event::QuestionAsked { .. }
                | Event::QuestionAnswered { .. }
                | Event::PrivacyVendorAlerted { .. }
                | Event::PrivacyVendorAnswered { .. } => {}
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
        "similarity",
        "more",
        "raised",
        "confirmed",
        "dismissed",
        "taken",
        "another",
        "mentions",
        "verified",
        "bounced",
        "until",
        "flagged",
        "opened",
        "notify",
        "authority",
        "told",
        "coordinator",
        "incident",
        "updated",
        "notified",
        "after",
        "deadline",
        "closed",
        "warning",
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
    fn a_mentioned_entry_begins_as_a_purge_looks_for_it() {
        let prefix = mentioned_prefix("RD-2026-000036");
        assert_eq!(prefix, r#"{"event":"mentioned","by":"RD-2026-000036","#);
        let entry = Event::Mentioned { by: "RD-2026-000036".into(), from: Some("x@evil.example".into()) };
        assert!(entry.to_stored().starts_with(&prefix));
    }

    #[test]
    fn entries_written_before_and_a_persons_words_show_as_written() {
        for old in ["report from kari@x.no: Lønn", "{not json", "Ringt melder, venter på Visma", ""] {
            assert_eq!(detail_text(old, Lang::Nb), old);
        }
    }
}
