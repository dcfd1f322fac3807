//! Step 3: what kind of fault the report is (application, operations, access, or unclassified when
//! unsure), plus the `urgent` and `privacy` flags, with the terms that decided it.
//!
//! Weighted terms from the policy are counted once each in the subject and the sender's own text
//! (signature and quoted replies left out: a "Lønnskonsulent" title is not a payroll fault). Vendor
//! product names count toward `application` only lightly, so where IT-technical words name the real
//! cause ("Citrix henger når jeg starter Visma") operations wins.

mod model;
mod signature;

pub use model::combine;

use serde::Serialize;

use crate::domain::Class;
use crate::grouping::{Reading, read, report_text};
use crate::pipeline::parse::ParsedMail;
use crate::pipeline::reason::Reason;
use crate::policy::{Policy, Tag};
use crate::text::normalize;
use crate::text::terms::Hit;

#[derive(Debug, Clone, Serialize)]
pub struct Classification {
    pub class: Class,
    /// 0..1: the winning class's share of all evidence (with a small prior for "none").
    pub confidence: f64,
    pub scores: Scores,
    pub urgent: bool,
    pub privacy: bool,
    /// Vendor products named in the report (policy names).
    pub products: Vec<String>,
    /// Which terms and headers decided, for people to read.
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Scores {
    pub application: f64,
    pub operations: f64,
    pub access: f64,
}

impl Scores {
    fn get_mut(&mut self, c: Class) -> Option<&mut f64> {
        match c {
            Class::Application => Some(&mut self.application),
            Class::Operations => Some(&mut self.operations),
            Class::Access => Some(&mut self.access),
            Class::Unclassified => None,
        }
    }

    fn ranked(&self) -> [(Class, f64); 3] {
        let mut r = [
            (Class::Application, self.application),
            (Class::Operations, self.operations),
            (Class::Access, self.access),
        ];
        r.sort_by(|a, b| b.1.total_cmp(&a.1));
        r
    }
}

/// Evidence a report needs beyond its best class's score before confidence can be high: a single
/// weak term should not be certain.
const PRIOR: f64 = 1.0;

/// The class and flags of a report: the policy's terms, and the trained classifier where the policy
/// has one.
pub fn classify(mail: &ParsedMail, policy: &Policy) -> Classification {
    let text = report_text(&mail.subject, &mail.own_text);
    classify_read(mail, &text, &read(&text), policy)
}

/// As [`classify`], for a mail whose report text (`text`, as [`report_text`] gives it) is already
/// read: the pipeline reads it once, for the classifier and the grouping.
pub fn classify_read(mail: &ParsedMail, text: &str, reading: &Reading, policy: &Policy) -> Classification {
    let by_terms = keywords(mail, policy);
    match &policy.learned {
        Some(learned) => {
            let p = learned.model.current().predict_read(text, reading, policy);
            combine(by_terms, &p, learned.thresholds)
        }
        None => by_terms,
    }
}

/// The policy's terms alone.
pub fn keywords(mail: &ParsedMail, policy: &Policy) -> Classification {
    let rules = &policy.classify;
    let text = normalize(&format!("{}\n{}", mail.subject, signature::strip(&mail.own_text)));
    let hits = rules.terms.find(&text);

    // A product's name is not a fault word: "lønn" in "Visma Lønn" names the system, so class terms
    // inside a product name do not count (and "Visma" inside "Visma.net Payroll" names no second product).
    let product_hits: Vec<Hit> =
        hits.iter().copied().filter(|h| matches!(rules.terms.term(h.term).tag, Tag::Product(_))).collect();
    let inside_product = |h: &Hit| {
        product_hits
            .iter()
            .any(|p| p != h && p.start <= h.start && p.end >= h.end && (p.end - p.start) > (h.end - h.start))
    };
    let mut products: Vec<String> = Vec::new();
    for h in product_hits.iter().filter(|h| !inside_product(h)) {
        if let Tag::Product(i) = rules.terms.term(h.term).tag
            && !products.contains(&policy.products[i])
        {
            products.push(policy.products[i].clone());
        }
    }

    let mut scores = Scores::default();
    let mut reasons = Vec::new();
    let mut seen = vec![false; rules.terms.len()];
    let mut urgent_terms = Vec::new();
    let mut privacy_score = 0.0;
    let mut privacy_terms = Vec::new();
    for h in hits.iter().filter(|h| !inside_product(h)) {
        if std::mem::replace(&mut seen[h.term], true) {
            continue;
        }
        let term = rules.terms.term(h.term);
        match term.tag {
            Tag::Class(c) => {
                if let Some(s) = scores.get_mut(c) {
                    *s += term.weight;
                    reasons.push(Reason::Term { class: c, term: term.text.clone(), weight: term.weight });
                }
            }
            Tag::Urgent => urgent_terms.push(term.text.clone()),
            Tag::Privacy => {
                privacy_score += term.weight;
                privacy_terms.push(term.text.clone());
            }
            Tag::Product(_) => {}
        }
    }

    if !products.is_empty() && rules.product_weight > 0.0 {
        scores.application += rules.product_weight;
        reasons.push(Reason::Product { products: products.clone(), weight: rules.product_weight });
    }

    let ranked = scores.ranked();
    let total: f64 = ranked.iter().map(|(_, s)| s).sum();
    let (best, best_score) = ranked[0];
    let confidence = if total > 0.0 { best_score / (total + PRIOR) } else { 0.0 };
    let confidence = (confidence * 1000.0).round() / 1000.0;
    let class = if best_score >= rules.min_score && confidence >= rules.min_confidence {
        reasons.push(Reason::Classified { class: best, score: best_score, total, confidence });
        best
    } else {
        reasons.push(Reason::Unclassified {
            best,
            score: best_score,
            confidence,
            min_score: rules.min_score,
            min_confidence: rules.min_confidence,
        });
        Class::Unclassified
    };

    let header_urgency = urgent_headers(mail);
    let urgent = !urgent_terms.is_empty() || header_urgency.is_some();
    if !urgent_terms.is_empty() {
        reasons.push(Reason::UrgentTerms { terms: urgent_terms.clone() });
    }
    if let Some(h) = header_urgency {
        reasons.push(Reason::UrgentHeader { header: h.to_string() });
    }
    let privacy = privacy_score > 0.0 && privacy_score >= rules.privacy_min_score;
    if privacy {
        reasons.push(Reason::Privacy { terms: privacy_terms.clone(), score: privacy_score });
    }

    Classification { class, confidence, scores, urgent, privacy, products, reasons }
}

/// `Importance: high`, `X-Priority: 1`/`2`, `Priority: urgent`, `X-MSMail-Priority: High`.
fn urgent_headers(mail: &ParsedMail) -> Option<String> {
    ["Importance", "X-Priority", "Priority", "X-MSMail-Priority"].into_iter().find_map(|name| {
        let v = mail.header(name)?.to_ascii_lowercase();
        let urgent = match name {
            "X-Priority" => v.starts_with('1') || v.starts_with('2'),
            "Priority" => v == "urgent",
            _ => v == "high",
        };
        urgent.then(|| format!("{name}: {v}"))
    })
}
