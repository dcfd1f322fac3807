//! The trained classifier beside the policy's terms: it decides the class where it is sure enough,
//! the terms decide where it is not (or the report goes to manual triage), and either may flag a
//! possible breach.

use super::Classification;
use crate::pipeline::learn::Prediction;
use crate::pipeline::reason::Reason;
use crate::policy::ModelThresholds;

/// One decision from the terms' (`by_terms`) and the model's (`p`). The terms found stay among
/// the reasons, as the words staff read; the verdict is the model's when it is sure.
pub fn combine(mut by_terms: Classification, p: &Prediction, t: ModelThresholds) -> Classification {
    let probability = round(p.probability);
    if p.probability >= t.min_probability {
        by_terms.reasons.retain(|r| !matches!(r, Reason::Classified { .. } | Reason::Unclassified { .. }));
        by_terms.reasons.push(Reason::Model { class: p.class, probability, words: p.words.clone() });
        by_terms.class = p.class;
        by_terms.confidence = probability;
    } else {
        by_terms.reasons.push(Reason::ModelUnsure { best: p.class, probability, min_probability: t.min_probability });
    }
    let privacy = round(p.privacy);
    if p.privacy >= t.privacy_min_probability {
        by_terms.privacy = true;
        by_terms.reasons.push(Reason::ModelPrivacy {
            probability: privacy,
            min_probability: t.privacy_min_probability,
            words: p.privacy_words.clone(),
        });
    }
    by_terms
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use crate::domain::Class;
    use crate::pipeline::classify::{classify, keywords};
    use crate::pipeline::parse::{ParseLimits, parse};
    use crate::pipeline::reason::Reason;
    use crate::policy::Policy;

    fn mail(subject: &str, body: &str) -> crate::pipeline::parse::ParsedMail {
        let raw = format!(
            "From: Kari <kari@gjovik.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\nSubject: {subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
        );
        parse(raw.as_bytes(), &ParseLimits::default()).expect("parses")
    }

    /// The kinds of report the terms alone get wrong (issue examples, reworded): the model
    /// decides them, says how sure it is and which words moved it; the terms' findings stay.
    #[test]
    fn the_model_decides_what_the_terms_cannot_and_says_why() {
        let policy = Policy::default_region().expect("policy");
        assert!(policy.learned.is_some(), "the shipped policy uses the trained classifier");
        let cases = [
            (
                "Varemottak",
                "Varemottaket i innkjøpsmodulen lagrer ikke antallet når vi registrerer leveransen.",
                Class::Application,
            ),
            ("Rettigheter", "Ny saksbehandler trenger rettigheter til fakturaattestering fra mandag.", Class::Access),
            (
                "Travel expenses",
                "Please give me the approver role for travel expenses, I am the new head of department.",
                Class::Access,
            ),
        ];
        for (subject, body, want) in cases {
            let m = mail(subject, body);
            assert_ne!(keywords(&m, &policy).class, want, "the terms alone already decide {subject:?}");
            let c = classify(&m, &policy);
            assert_eq!(c.class, want, "{subject}: {:?}", c.reasons);
            let decided = c.reasons.iter().find_map(|r| match r {
                Reason::Model { class, probability, words } => Some((*class, *probability, words.clone())),
                _ => None,
            });
            let (class, probability, words) = decided.expect("a reason names the model");
            assert_eq!(class, want);
            assert!((0.6..=1.0).contains(&probability) && c.confidence == probability, "{c:?}");
            assert!(!words.is_empty() && words.iter().all(|w| !w.starts_with('#')), "{words:?}");
            assert!(
                !c.reasons.iter().any(|r| matches!(r, Reason::Classified { .. } | Reason::Unclassified { .. })),
                "the terms' verdict gives way to the model's: {:?}",
                c.reasons
            );
        }
    }

    /// Below its threshold the model leaves the terms' decision as it was, and says it was unsure.
    #[test]
    fn an_unsure_model_leaves_the_terms_decision() {
        let mut policy = Policy::default_region().expect("policy");
        let learned = policy.learned.as_mut().expect("learned");
        learned.thresholds.min_probability = 2.0;
        learned.thresholds.privacy_min_probability = 2.0;
        let m = mail("Lønnskjøringen stopper", "Lønnskjøringen i Visma stopper med feil i trekk.");
        let c = classify(&m, &policy);
        let k = keywords(&m, &policy);
        assert_eq!((c.class, c.privacy, c.confidence), (k.class, k.privacy, k.confidence));
        assert!(c.reasons.iter().any(|r| matches!(r, Reason::ModelUnsure { .. })), "{:?}", c.reasons);
        assert!(c.reasons.iter().any(|r| matches!(r, Reason::Classified { .. })), "{:?}", c.reasons);
    }
}
