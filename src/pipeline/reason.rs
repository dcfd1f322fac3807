//! Why a mail was decided as it was, as data: each step says what it found (kind and values), and
//! the words are chosen when a person reads them, in the reader's language. Stored with the ticket
//! as JSON, so a ticket recorded today reads right in any language later.

use serde::{Deserialize, Serialize};

use crate::domain::{Class, Detail};
use crate::pipeline::ignore::{Evidence, IgnoreKind};
use crate::text::lang::Lang;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A robot's mail (bounce, auto-reply, …) with the evidence, e.g. `Auto-Submitted: auto-replied`.
    Ignored {
        what: IgnoreKind,
        evidence: Evidence,
    },
    Screenshot {
        file: Option<String>,
        width: u64,
        height: u64,
    },
    Phone {
        number: String,
    },
    Mobile {
        number: String,
    },
    Email {
        address: String,
    },
    Missing {
        details: Vec<Detail>,
    },
    /// A policy term of a class found in the report, and its weight.
    Term {
        class: Class,
        term: String,
        weight: f64,
    },
    /// Products of the vendor named in the report, counted for application faults.
    Product {
        products: Vec<String>,
        weight: f64,
    },
    Classified {
        class: Class,
        score: f64,
        total: f64,
        confidence: f64,
    },
    Unclassified {
        best: Class,
        score: f64,
        confidence: f64,
        min_score: f64,
        min_confidence: f64,
    },
    /// The trained classifier decided the class, this sure, mostly from these words.
    Model {
        class: Class,
        probability: f64,
        words: Vec<String>,
    },
    /// The trained classifier was not sure enough to decide.
    ModelUnsure {
        best: Class,
        probability: f64,
        min_probability: f64,
    },
    /// The trained classifier flagged a possible personal-data breach.
    ModelPrivacy {
        probability: f64,
        min_probability: f64,
        #[serde(default)]
        words: Vec<String>,
    },
    UrgentTerms {
        terms: Vec<String>,
    },
    UrgentHeader {
        header: String,
    },
    Privacy {
        terms: Vec<String>,
        score: f64,
    },
    Municipality {
        id: String,
        name: String,
        sender: String,
    },
    OutsideRegion {
        sender: String,
    },
    NoSender,
    ManualTriage {
        helpdesk: String,
    },
    Routed {
        class: Class,
        to: Vec<String>,
    },
    /// Routed at once with details missing, as nobody can be asked for them.
    NobodyAsked,
    UrgentIncomplete,
    Held,
    NoReply {
        why: NoReply,
    },
    /// The Reply-To is not one address in the region that can be answered.
    ReplyToUnused,
    Withheld {
        why: Withheld,
    },
}

/// Why the sender can be given no reply at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum NoReply {
    NoSender,
    OutsideRegion,
    CannotBeAnswered { sender: String },
}

/// Why a reporter who could be answered gets no automatic reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum Withheld {
    /// `X-Auto-Response-Suppress` with this value.
    SenderAskedNone { value: String },
    /// `Return-Path: <>`.
    NullSender,
    /// The helpdesk's mailbox was in neither To nor Cc.
    NotAddressed { mailbox: String },
}

impl Withheld {
    pub fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (Withheld::SenderAskedNone { value }, Lang::Nb) => {
                format!("avsenderen ba om ingen (X-Auto-Response-Suppress: {value})")
            }
            (Withheld::SenderAskedNone { value }, Lang::En) => {
                format!("the sender asked for none (X-Auto-Response-Suppress: {value})")
            }
            (Withheld::NullSender, Lang::Nb) => {
                "sendt med tom konvoluttavsender (Return-Path: <>), slik programmer gjør".into()
            }
            (Withheld::NullSender, Lang::En) => {
                "sent with a null envelope sender (Return-Path: <>), as programs send".into()
            }
            (Withheld::NotAddressed { mailbox }, Lang::Nb) => {
                format!(
                    "brukerstøtten ({mailbox}) står ikke i Til eller Kopi: sendt som blindkopi, via en liste eller videresendt"
                )
            }
            (Withheld::NotAddressed { mailbox }, Lang::En) => {
                format!("the helpdesk ({mailbox}) is not in To or Cc: sent by Bcc, through a list or forwarded")
            }
        }
    }
}

impl NoReply {
    fn text(&self, lang: Lang) -> String {
        match (self, lang) {
            (NoReply::NoSender, Lang::Nb) => "Intet svar: e-posten har ingen gyldig avsenderadresse".into(),
            (NoReply::NoSender, Lang::En) => "No reply: the mail has no valid sender address".into(),
            (NoReply::OutsideRegion, Lang::Nb) => "Intet svar til avsendere utenfor regionen".into(),
            (NoReply::OutsideRegion, Lang::En) => "No reply to senders outside the region".into(),
            (NoReply::CannotBeAnswered { sender }, Lang::Nb) => {
                format!("Intet svar: {sender} kan ikke få svar, og meldingen oppgir ingen annen adresse")
            }
            (NoReply::CannotBeAnswered { sender }, Lang::En) => {
                format!("No reply: {sender} cannot be answered and the report names no other address")
            }
        }
    }
}

/// A class as named in a reason.
pub fn class_name(class: Class, lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => class.label_nb(),
        Lang::En => match class {
            Class::Application => "application fault",
            Class::Operations => "operations fault",
            Class::Access => "passwords and access",
            Class::Unclassified => "unclassified",
        },
    }
}

/// A required detail as named in a sentence.
pub fn detail_name(detail: Detail, lang: Lang) -> &'static str {
    match (detail, lang) {
        (Detail::Screenshot, Lang::Nb) => "skjermbilde",
        (Detail::Phone, Lang::Nb) => "telefonnummer",
        (Detail::Mobile, Lang::Nb) => "mobilnummer",
        (Detail::Email, Lang::Nb) => "e-postadresse",
        (Detail::Screenshot, Lang::En) => "screenshot",
        (Detail::Phone, Lang::En) => "phone number",
        (Detail::Mobile, Lang::En) => "mobile number",
        (Detail::Email, Lang::En) => "e-mail address",
    }
}

/// A robot's mail as named in a sentence.
pub fn ignore_name(kind: IgnoreKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (IgnoreKind::AutoReply, Lang::Nb) => "automatisk svar",
        (IgnoreKind::Bounce, Lang::Nb) => "returmelding (kunne ikke leveres)",
        (IgnoreKind::Bulk, Lang::Nb) => "massepost",
        (IgnoreKind::ReadReceipt, Lang::Nb) => "lesebekreftelse",
        (IgnoreKind::Calendar, Lang::Nb) => "kalenderinvitasjon eller svar på en",
        (IgnoreKind::AutoReply, Lang::En) => "auto-reply",
        (IgnoreKind::Bounce, Lang::En) => "bounce",
        (IgnoreKind::Bulk, Lang::En) => "bulk mail",
        (IgnoreKind::ReadReceipt, Lang::En) => "read receipt",
        (IgnoreKind::Calendar, Lang::En) => "meeting invitation or answer",
    }
}

/// A number as the reader writes it: one decimal, a comma in bokmål.
pub(crate) fn number(x: f64, decimals: usize, lang: Lang) -> String {
    let s = format!("{x:.decimals$}");
    if lang == Lang::Nb { s.replace('.', ",") } else { s }
}

/// A probability as a whole percentage ("87 %").
fn percent(p: f64, lang: Lang) -> String {
    format!("{} %", number(p * 100.0, 0, lang))
}

fn quoted(words: &[String], lang: Lang) -> String {
    let (open, close) = if lang == Lang::Nb { ("«", "»") } else { ("\"", "\"") };
    words.iter().map(|w| format!("{open}{w}{close}")).collect::<Vec<_>>().join(", ")
}

impl Reason {
    /// The reason in `lang`, as one line.
    pub fn text(&self, lang: Lang) -> String {
        let nb = lang == Lang::Nb;
        let n = |x: f64, d: usize| number(x, d, lang);
        let class = |c: Class| class_name(c, lang);
        let pick = |nb_text: String, en_text: String| if nb { nb_text } else { en_text };
        match self {
            Reason::Ignored { what, evidence } => {
                let (what, evidence) = (ignore_name(*what, lang), evidence.text(lang));
                pick(format!("Ignorert: {what} ({evidence})"), format!("Ignored: {what} ({evidence})"))
            }
            Reason::Screenshot { file, width, height } => {
                let file = file.clone().unwrap_or_else(|| pick("bilde i teksten".into(), "inline image".into()));
                pick(
                    format!("Skjermbilde: {file} ({width}×{height})"),
                    format!("Screenshot: {file} ({width}×{height})"),
                )
            }
            Reason::Phone { number } => pick(format!("Telefon: {number}"), format!("Phone: {number}")),
            Reason::Mobile { number } => pick(format!("Mobil: {number}"), format!("Mobile: {number}")),
            Reason::Email { address } => pick(format!("E-post: {address}"), format!("E-mail: {address}")),
            Reason::Missing { details } => {
                let list = details.iter().map(|d| detail_name(*d, lang)).collect::<Vec<_>>().join(", ");
                pick(format!("Mangler: {list}"), format!("Missing: {list}"))
            }
            Reason::Term { class: c, term, weight } => {
                format!("{}: {} (+{})", capitalised(class(*c)), quoted(std::slice::from_ref(term), lang), n(*weight, 1))
            }
            Reason::Product { products, weight } => pick(
                format!(
                    "{}: produkt {} (+{})",
                    capitalised(class(Class::Application)),
                    products.join(", "),
                    n(*weight, 1)
                ),
                format!(
                    "{}: product {} (+{})",
                    capitalised(class(Class::Application)),
                    products.join(", "),
                    n(*weight, 1)
                ),
            ),
            Reason::Classified { class: c, score, total, confidence } => pick(
                format!(
                    "Klasse {}: {} av {} poeng, sikkerhet {}",
                    class(*c),
                    n(*score, 1),
                    n(*total, 1),
                    n(*confidence, 2)
                ),
                format!(
                    "Class {}: score {} of {}, confidence {}",
                    class(*c),
                    n(*score, 1),
                    n(*total, 1),
                    n(*confidence, 2)
                ),
            ),
            Reason::Unclassified { best, score, confidence, min_score, min_confidence } => pick(
                format!(
                    "Ikke klassifisert: beste gjetning {} med {} poeng og sikkerhet {} (krever {} og {})",
                    class(*best),
                    n(*score, 1),
                    n(*confidence, 2),
                    n(*min_score, 1),
                    n(*min_confidence, 2)
                ),
                format!(
                    "Unclassified: best guess {} with score {} and confidence {} (needs {} and {})",
                    class(*best),
                    n(*score, 1),
                    n(*confidence, 2),
                    n(*min_score, 1),
                    n(*min_confidence, 2)
                ),
            ),
            Reason::Model { class: c, probability, words } => {
                let sure = percent(*probability, lang);
                match (words.is_empty(), nb) {
                    (true, true) => format!("Klasse {}: modellen er {sure} sikker", class(*c)),
                    (true, false) => format!("Class {}: the model is {sure} sure", class(*c)),
                    (false, true) => {
                        format!("Klasse {}: modellen er {sure} sikker, mest ut fra {}", class(*c), quoted(words, lang))
                    }
                    (false, false) => {
                        format!("Class {}: the model is {sure} sure, mostly from {}", class(*c), quoted(words, lang))
                    }
                }
            }
            Reason::ModelUnsure { best, probability, min_probability } => pick(
                format!(
                    "Modellen er usikker: beste gjetning {} med {} (krever {})",
                    class(*best),
                    percent(*probability, lang),
                    percent(*min_probability, lang)
                ),
                format!(
                    "The model is unsure: best guess {} at {} (needs {})",
                    class(*best),
                    percent(*probability, lang),
                    percent(*min_probability, lang)
                ),
            ),
            Reason::ModelPrivacy { probability, min_probability, words } => {
                let (p, min) = (percent(*probability, lang), percent(*min_probability, lang));
                let from = if words.is_empty() {
                    String::new()
                } else {
                    pick(
                        format!(", mest ut fra {}", quoted(words, lang)),
                        format!(", mostly from {}", quoted(words, lang)),
                    )
                };
                pick(
                    format!("Personvern: modellen anslår {p} for et mulig brudd (flagger fra {min}){from}"),
                    format!("Privacy: the model puts a possible breach at {p} (flags from {min}){from}"),
                )
            }
            Reason::UrgentTerms { terms } => {
                pick(format!("Haster: {}", quoted(terms, lang)), format!("Urgent: {}", quoted(terms, lang)))
            }
            Reason::UrgentHeader { header } => {
                pick(format!("Haster: e-posthodet {header}"), format!("Urgent: header {header}"))
            }
            Reason::Privacy { terms, score } => pick(
                format!("Personvern: {} ({} poeng)", quoted(terms, lang), n(*score, 1)),
                format!("Privacy: {} (score {})", quoted(terms, lang), n(*score, 1)),
            ),
            Reason::Municipality { name, sender, .. } => {
                pick(format!("{name}: avsender {sender}"), format!("{name}: sender {sender}"))
            }
            Reason::OutsideRegion { sender } => pick(
                format!("Avsenderen {sender} hører ikke til regionens domener"),
                format!("Sender {sender} is outside the region's domains"),
            ),
            Reason::NoSender => {
                pick("E-posten har ingen gyldig avsenderadresse".into(), "The mail has no valid sender address".into())
            }
            Reason::ManualTriage { helpdesk } => pick(
                format!("Vurderes manuelt av brukerstøtten ({helpdesk})"),
                format!("Manual triage by the helpdesk ({helpdesk})"),
            ),
            Reason::Routed { class: c, to } => pick(
                format!("Sendt som {} til {}", class(*c), to.join(", ")),
                format!("Routed as {} to {}", class(*c), to.join(", ")),
            ),
            Reason::NobodyAsked => pick(
                "Sendt videre straks selv om opplysninger mangler: ingen kan spørres om dem".into(),
                "Routed at once although details are missing: nobody can be asked for them".into(),
            ),
            Reason::UrgentIncomplete => pick(
                "Haster: sendt videre straks selv om opplysninger mangler".into(),
                "Urgent: routed at once although details are missing".into(),
            ),
            Reason::Held => pick(
                "Holdes tilbake til innmelderen har sendt opplysningene som mangler".into(),
                "Held until the reporter sends the missing details".into(),
            ),
            Reason::NoReply { why } => why.text(lang),
            Reason::ReplyToUnused => pick(
                "Reply-To er ikke én adresse i regionen som kan få svar: ikke brukt".into(),
                "Reply-To is not one answerable address in the region: not used".into(),
            ),
            Reason::Withheld { why } => pick(
                format!("Intet automatisk svar: {}", why.text(lang)),
                format!("No automatic reply: {}", why.text(lang)),
            ),
        }
    }
}

pub(crate) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Reasons as stored with a ticket (JSON), read back for display in `lang`. A ticket recorded
/// before reasons were data holds English lines; they are shown as they are.
pub fn stored_texts(stored: &str, lang: Lang) -> Vec<String> {
    match crate::text::stored::from_stored::<Vec<Reason>>(stored) {
        Some(reasons) => reasons.iter().map(|r| r.text(lang)).collect(),
        None => stored.lines().filter(|l| !l.trim().is_empty()).map(str::to_string).collect(),
    }
}

/// Reasons as stored with a ticket.
pub fn to_stored(reasons: &[Reason]) -> String {
    crate::text::stored::to_stored(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every reason; the match makes a new kind fail to compile until it is added here.
    fn every_kind() -> Vec<Reason> {
        let s = |x: &str| x.to_string();
        let all = vec![
            Reason::Ignored { what: IgnoreKind::Bounce, evidence: Evidence::Sender { local: s("mailer-daemon") } },
            Reason::Screenshot { file: None, width: 1280, height: 800 },
            Reason::Phone { number: s("61 12 64 26") },
            Reason::Mobile { number: s("951 17 655") },
            Reason::Email { address: s("kari@gjovik.kommune.no") },
            Reason::Missing { details: vec![Detail::Screenshot, Detail::Mobile] },
            Reason::Term { class: Class::Application, term: s("lønn"), weight: 2.0 },
            Reason::Product { products: vec![s("Visma Lønn")], weight: 1.0 },
            Reason::Classified { class: Class::Application, score: 4.0, total: 4.0, confidence: 0.67 },
            Reason::Unclassified {
                best: Class::Access,
                score: 1.0,
                confidence: 0.3,
                min_score: 2.0,
                min_confidence: 0.5,
            },
            Reason::Model { class: Class::Access, probability: 0.873, words: vec![s("passordet"), s("tilgang*")] },
            Reason::Model { class: Class::Operations, probability: 0.6, words: vec![] },
            Reason::ModelUnsure { best: Class::Application, probability: 0.45, min_probability: 0.6 },
            Reason::ModelPrivacy { probability: 0.34, min_probability: 0.2, words: vec![s("lønnsslippene")] },
            Reason::UrgentTerms { terms: vec![s("haster")] },
            Reason::UrgentHeader { header: s("Importance: high") },
            Reason::Privacy { terms: vec![s("fødselsnummer")], score: 3.0 },
            Reason::Municipality {
                id: s("ostre-toten"),
                name: s("Østre Toten"),
                sender: s("a@ostre-toten.kommune.no"),
            },
            Reason::OutsideRegion { sender: s("a@gmail.com") },
            Reason::NoSender,
            Reason::ManualTriage { helpdesk: s("pureservice@gjovik.kommune.no") },
            Reason::Routed { class: Class::Operations, to: vec![s("it@gjovik.kommune.no")] },
            Reason::NobodyAsked,
            Reason::UrgentIncomplete,
            Reason::Held,
            Reason::NoReply { why: NoReply::NoSender },
            Reason::NoReply { why: NoReply::OutsideRegion },
            Reason::NoReply { why: NoReply::CannotBeAnswered { sender: s("noreply@gjovik.kommune.no") } },
            Reason::ReplyToUnused,
            Reason::Withheld { why: Withheld::SenderAskedNone { value: s("OOF") } },
            Reason::Withheld { why: Withheld::NullSender },
            Reason::Withheld { why: Withheld::NotAddressed { mailbox: s("pureservice@gjovik.kommune.no") } },
        ];
        for r in &all {
            match r {
                Reason::Ignored { .. }
                | Reason::Screenshot { .. }
                | Reason::Phone { .. }
                | Reason::Mobile { .. }
                | Reason::Email { .. }
                | Reason::Missing { .. }
                | Reason::Term { .. }
                | Reason::Product { .. }
                | Reason::Classified { .. }
                | Reason::Unclassified { .. }
                | Reason::Model { .. }
                | Reason::ModelUnsure { .. }
                | Reason::ModelPrivacy { .. }
                | Reason::UrgentTerms { .. }
                | Reason::UrgentHeader { .. }
                | Reason::Privacy { .. }
                | Reason::Municipality { .. }
                | Reason::OutsideRegion { .. }
                | Reason::NoSender
                | Reason::ManualTriage { .. }
                | Reason::Routed { .. }
                | Reason::NobodyAsked
                | Reason::UrgentIncomplete
                | Reason::Held
                | Reason::NoReply { .. }
                | Reason::ReplyToUnused
                | Reason::Withheld { .. } => {}
            }
        }
        all
    }

    /// English words the reasons were written in before they were data.
    const ENGLISH: &[&str] = &[
        "screenshot",
        "phone",
        "mobile",
        "email",
        "missing",
        "score",
        "confidence",
        "class",
        "manual",
        "triage",
        "route",
        "routed",
        "municipality",
        "sender",
        "held",
        "urgent",
        "privacy",
        "ignored",
        "product",
        "application",
        "operations",
        "unclassified",
        "outside",
        "nobody",
        "details",
        "the",
        "automatic",
    ];

    #[test]
    fn every_reason_reads_in_bokmal_and_english() {
        let all = every_kind();
        assert_eq!(all.len(), 32);
        for r in &all {
            let nb = r.text(Lang::Nb);
            let en = r.text(Lang::En);
            assert!(!nb.is_empty() && !en.is_empty(), "{r:?}");
            let lower = nb.to_lowercase();
            for word in lower.split(|c: char| !c.is_alphanumeric()) {
                assert!(!ENGLISH.contains(&word), "{word:?} in the bokmål of {r:?}: {nb}");
            }
            if !matches!(r, Reason::Phone { .. } | Reason::Mobile { .. } | Reason::Email { .. } | Reason::Term { .. }) {
                assert_ne!(nb, en, "{r:?}");
            }
        }
        assert_eq!(
            Reason::Classified { class: Class::Application, score: 4.0, total: 4.0, confidence: 0.667 }.text(Lang::Nb),
            "Klasse programfeil / faglig feil: 4,0 av 4,0 poeng, sikkerhet 0,67"
        );
        assert_eq!(
            Reason::Model { class: Class::Access, probability: 0.873, words: vec!["passordet".into()] }.text(Lang::Nb),
            "Klasse passord og tilganger: modellen er 87 % sikker, mest ut fra «passordet»"
        );
        assert_eq!(
            Reason::Term { class: Class::Application, term: "lønn".into(), weight: 2.0 }.text(Lang::Nb),
            "Programfeil / faglig feil: «lønn» (+2,0)"
        );
    }

    #[test]
    fn stored_reasons_read_back_in_the_readers_language_and_old_lines_as_written() {
        let all = every_kind();
        let stored = to_stored(&all);
        for lang in Lang::ALL {
            let want: Vec<String> = all.iter().map(|r| r.text(lang)).collect();
            assert_eq!(stored_texts(&stored, lang), want);
        }
        let old = "phone: 61 12 64 26\nclass application: score 4.0 of 4.0, confidence 0.67\n";
        assert_eq!(
            stored_texts(old, Lang::Nb),
            ["phone: 61 12 64 26", "class application: score 4.0 of 4.0, confidence 0.67"]
        );
        assert!(stored_texts("", Lang::Nb).is_empty(), "a purged ticket's reasons");
    }
}
