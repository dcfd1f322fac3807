//! Reports of the same fault: which earlier open report a new one resembles (TF-IDF cosine over
//! normalised text, same vendor product), so that many users' reports of one fault become one
//! suspected incident. Pure: plain data in and out; the store supplies the candidates.

pub mod features;

use std::collections::HashMap;

pub use features::{Features, features, report_text};

/// A report as grouping sees it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The vendor products it names (policy names); empty when none.
    pub products: Vec<String>,
    pub features: Features,
}

impl Report {
    pub fn new(subject: &str, own_text: &str, products: Vec<String>) -> Report {
        let mut features = features(&report_text(subject, own_text));
        // The product named counts like a strong word: the same fault often shows in several
        // products at once (a sign-in fault in Payroll and Financials), so it is no hard rule.
        for p in &products {
            features.insert(format!("product:{p}"), 2.0);
        }
        Report { products, features }
    }
}

/// How alike a report and a group must be to be the same fault (cosine of their TF-IDF vectors,
/// weighed by recency); chosen on the labelled set (docs/grouping.md).
pub const DEFAULT_THRESHOLD: f64 = 0.18;

/// How much an hour of quiet since a group's last report lowers its similarity: reports of one
/// fault come close together, unrelated look-alikes are usually hours or days apart.
/// It halves every [`HALF_LIFE_HOURS`].
pub fn recency(hours_since_last: f64) -> f64 {
    0.5f64.powf(hours_since_last.max(0.0) / HALF_LIFE_HOURS)
}

/// See [`recency`]; chosen on the labelled set (docs/grouping.md).
pub const HALF_LIFE_HOURS: f64 = 6.0;

/// The candidate `new` most resembles, with its similarity (weighed by [`recency`] of each
/// candidate's `hours` since its last report), when that reaches `threshold`. `background` are
/// other recent reports: they only teach which words are common.
pub fn best_match(
    new: &Report,
    candidates: &[Report],
    hours: &[f64],
    background: &[&Features],
    threshold: f64,
) -> Option<(usize, f64)> {
    let scores = similarities(new, candidates, background);
    scores
        .into_iter()
        .zip(hours)
        .map(|(s, h)| s * recency(*h))
        .enumerate()
        .filter(|(_, s)| *s >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Cosine similarity of `new` to each candidate, with IDF computed over the background reports
/// and `new`: words most reports have weigh little, words few have weigh much. (Over the few
/// candidates alone, the words two reports share would be the ones that weigh least.)
pub fn similarities(new: &Report, candidates: &[Report], background: &[&Features]) -> Vec<f64> {
    let docs: Vec<&Features> = std::iter::once(&new.features).chain(background.iter().copied()).collect();
    let n = docs.len() as f64;
    let mut df: HashMap<&str, f64> = HashMap::new();
    for d in &docs {
        for k in d.keys() {
            *df.entry(k.as_str()).or_default() += 1.0;
        }
    }
    let weigh = |d: &Features| -> HashMap<String, f64> {
        d.iter()
            .map(|(k, tf)| {
                let idf = ((n + 1.0) / (df.get(k.as_str()).copied().unwrap_or(0.0) + 0.5)).ln();
                // Sublinear in repeats; weights below one (the 4-grams) stay as they are.
                let tf = if *tf > 1.0 { 1.0 + tf.ln() } else { tf.max(0.0) };
                (k.clone(), tf * idf.max(0.0))
            })
            .collect()
    };
    let norm = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let a = weigh(&new.features);
    let na = norm(&a);
    candidates
        .iter()
        .map(|c| {
            let b = weigh(&c.features);
            let nb = norm(&b);
            if na == 0.0 || nb == 0.0 {
                return 0.0;
            }
            let dot: f64 = a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum();
            dot / (na * nb)
        })
        .collect()
}

/// A group as a candidate: its members' features added up (so a new report is compared with
/// what the group says as a whole, and one loose member cannot pull unrelated reports in).
pub fn merged<'a>(members: impl IntoIterator<Item = &'a Report>) -> Report {
    let mut out = Report { products: vec![], features: Features::new() };
    for m in members {
        for (k, v) in &m.features {
            *out.features.entry(k.clone()).or_default() += v;
        }
        for p in &m.products {
            if !out.products.contains(p) {
                out.products.push(p.clone());
            }
        }
    }
    out
}

/// Groups reports in the order they arrived, as the service does: each joins the group (of
/// reports within `window`) it most resembles, or starts its own; `history` are reports from
/// before (for the word weights). Returns each report's group
/// (the index of its group's first report).
pub fn replay(
    history: &[Report],
    reports: &[(time::OffsetDateTime, Report)],
    window: time::Duration,
    threshold: f64,
) -> Vec<usize> {
    let mut group: Vec<usize> = Vec::with_capacity(reports.len());
    for (i, (at, r)) in reports.iter().enumerate() {
        let background: Vec<&Features> =
            history.iter().map(|h| &h.features).chain(reports[..i].iter().map(|(_, r)| &r.features)).collect();
        let recent: Vec<usize> = (0..i).filter(|&j| *at - reports[j].0 <= window).collect();
        let mut ids: Vec<usize> = recent.iter().map(|&j| group[j]).collect();
        ids.sort_unstable();
        ids.dedup();
        let candidates: Vec<Report> =
            ids.iter().map(|g| merged(recent.iter().filter(|&&j| group[j] == *g).map(|&j| &reports[j].1))).collect();
        let hours: Vec<f64> = ids
            .iter()
            .map(|g| {
                let last = recent.iter().filter(|&&j| group[j] == *g).map(|&j| reports[j].0).max().unwrap_or(*at);
                (*at - last).as_seconds_f64() / 3600.0
            })
            .collect();
        let joined = best_match(r, &candidates, &hours, &background, threshold).map(|(k, _)| ids[k]);
        group.push(joined.unwrap_or(i));
    }
    group
}

/// Pairwise precision and recall of a grouping against the truth: over all pairs of reports,
/// how many put together are truly the same fault, and how many truly the same were put together.
/// `None` is a report in no group.
pub fn pairwise(predicted: &[Option<usize>], truth: &[Option<&str>]) -> (f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for i in 0..predicted.len() {
        for j in i + 1..predicted.len() {
            let p = predicted[i].is_some() && predicted[i] == predicted[j];
            let t = truth[i].is_some() && truth[i] == truth[j];
            match (p, t) {
                (true, true) => tp += 1.0,
                (true, false) => fp += 1.0,
                (false, true) => fn_ += 1.0,
                _ => {}
            }
        }
    }
    let precision = if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) };
    let recall = if tp + fn_ == 0.0 { 1.0 } else { tp / (tp + fn_) };
    (precision, recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fault_in_other_words_matches_and_another_fault_does_not() {
        let a = Report::new("Får ikke logget inn i Visma.net", "Innloggingen henger etter passord. Mvh\nKari", vec![]);
        let b =
            Report::new("Innlogging Visma.net feiler", "Kommer ikke inn, siden laster i ring etter passordet.", vec![]);
        let c = Report::new("Skriveren i 2. etasje", "Utskrifter kommer ikke ut på skriveren.", vec![]);
        let bg = [&a.features, &b.features, &c.features];
        let s = similarities(&a, &[b.clone(), c.clone()], &bg);
        assert!(s[0] > s[1] && s[0] > 0.1, "{s:?}");
        assert_eq!(best_match(&a, std::slice::from_ref(&c), &[0.0], &bg, DEFAULT_THRESHOLD), None);
    }

    #[test]
    fn pairwise_precision_and_recall() {
        let truth = [Some("x"), Some("x"), Some("y"), None];
        assert_eq!(pairwise(&[Some(0), Some(0), Some(1), None], &truth), (1.0, 1.0));
        let (p, r) = pairwise(&[Some(0), Some(0), Some(0), None], &truth);
        assert!((p - 1.0 / 3.0).abs() < 1e-9 && (r - 1.0).abs() < 1e-9);
    }
}
