//! Reports of the same fault: which earlier open report a new one resembles (TF-IDF cosine over
//! normalised text, same vendor product), so that many users' reports of one fault become one
//! suspected incident. Pure: plain data in and out; the store supplies the candidates.

pub mod features;

use std::collections::HashMap;

pub use features::{Features, Reading, features, read, report_text};

/// Which words are common: document frequencies over recent reports (the last [`Corpus::SIZE`]),
/// kept up to date as reports come and go.
#[derive(Debug, Default, Clone)]
pub struct Corpus {
    docs: std::collections::VecDeque<Vec<String>>,
    df: HashMap<String, f64>,
}

impl Corpus {
    pub const SIZE: usize = 300;

    pub fn add(&mut self, features: &Features) {
        let keys: Vec<String> = features.keys().cloned().collect();
        for k in &keys {
            *self.df.entry(k.clone()).or_default() += 1.0;
        }
        self.docs.push_back(keys);
        if self.docs.len() > Self::SIZE
            && let Some(old) = self.docs.pop_front()
        {
            for k in old {
                if let Some(n) = self.df.get_mut(&k) {
                    *n -= 1.0;
                    if *n <= 0.0 {
                        self.df.remove(&k);
                    }
                }
            }
        }
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Inverse document frequency, counting `extra` more documents that all have the word.
    fn idf(&self, word: &str, extra: f64) -> f64 {
        let n = self.docs.len() as f64 + extra;
        let df = self.df.get(word).copied().unwrap_or(0.0) + extra;
        ((n + 1.0) / (df + 0.5)).ln().max(0.0)
    }
}

/// A report as grouping sees it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The vendor products it names (policy names); empty when none.
    pub products: Vec<String>,
    pub features: Features,
}

impl Report {
    pub fn new(subject: &str, own_text: &str, products: Vec<String>) -> Report {
        Report::of_words(features(&report_text(subject, own_text)), products)
    }

    /// A report whose words are already read (the pipeline reads them once for the classifier).
    pub fn of_words(mut features: Features, products: Vec<String>) -> Report {
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
pub const DEFAULT_THRESHOLD: f64 = 0.2;

/// How much an hour of quiet since a group's last report lowers its similarity: reports of one
/// fault come close together, unrelated look-alikes are usually hours or days apart.
/// It halves every [`HALF_LIFE_HOURS`].
pub fn recency(hours_since_last: f64) -> f64 {
    0.5f64.powf(hours_since_last.max(0.0) / HALF_LIFE_HOURS)
}

/// See [`recency`]; chosen on the labelled set (docs/grouping.md).
pub const HALF_LIFE_HOURS: f64 = 6.0;

/// A report's TF-IDF vector, of unit length, as (feature hash, weight) sorted by hash: worked out
/// once when the report arrives (with the word weights of that moment), compared by a merge.
/// Beside it, its heavy words: a candidate that shares none of them with a new report is not
/// compared at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vector {
    weights: Vec<(u64, f32)>,
    /// The hashes of its [`Vector::HEAVY`] heaviest whole words (not 4-grams, not products),
    /// sorted; for a group, every sampled member's.
    heavy: Vec<u64>,
}

fn hash(feature: &str) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    feature.hash(&mut h);
    h.finish()
}

impl Vector {
    pub const KEEP: usize = 256;
    /// Heavy words kept per report: enough that two reports of one fault share one (the labelled
    /// set groups exactly as when every candidate is compared, docs/grouping.md).
    pub const HEAVY: usize = 12;

    /// The report's vector, the report itself counted among the corpus's documents.
    pub fn of(report: &Report, corpus: &Corpus) -> Vector {
        let mut words: Vec<(u64, f32)> = Vec::new();
        let mut v: Vec<(u64, f32)> = report
            .features
            .iter()
            .map(|(k, tf)| {
                // Sublinear in repeats; weights below one (the 4-grams) stay as they are.
                let tf = if *tf > 1.0 { 1.0 + tf.ln() } else { tf.max(0.0) };
                let weighed = (hash(k), (tf * corpus.idf(k, 1.0)) as f32);
                if !k.starts_with('#') && !k.starts_with("product:") && weighed.1 > 0.0 {
                    words.push(weighed);
                }
                weighed
            })
            .filter(|(_, w)| *w > 0.0)
            .collect();
        v.sort_unstable_by_key(|(h, _)| *h);
        words.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut heavy: Vec<u64> = words.iter().take(Self::HEAVY).map(|(h, _)| *h).collect();
        heavy.sort_unstable();
        Vector { weights: v, heavy }.normalised()
    }

    /// Whether the two share a heavy word (both lists sorted: a merge).
    pub fn shares_heavy(&self, other: &Vector) -> bool {
        let (a, b) = (&self.heavy, &other.heavy);
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Keeps the [`Vector::KEEP`] heaviest features (the rest say little and cost time), then
    /// scales to unit length.
    fn normalised(mut self) -> Vector {
        let w = &mut self.weights;
        if w.len() > Self::KEEP {
            w.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
            w.truncate(Self::KEEP);
            w.sort_unstable_by_key(|(h, _)| *h);
        }
        let norm = w.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            w.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        self
    }

    /// Cosine similarity (both are of unit length).
    pub fn cosine(&self, other: &Vector) -> f64 {
        let (a, b) = (&self.weights, &other.weights);
        let (mut i, mut j, mut dot) = (0, 0, 0.0f64);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += f64::from(a[i].1) * f64::from(b[j].1);
                    i += 1;
                    j += 1;
                }
            }
        }
        dot
    }

    /// A group as a candidate: its members added up (so a new report is compared with what the
    /// group says as a whole, and one loose member cannot pull unrelated reports in).
    pub fn sum<'a>(members: impl IntoIterator<Item = &'a Vector>) -> Vector {
        let (mut all, mut heavy): (Vec<(u64, f32)>, Vec<u64>) = (Vec::new(), Vec::new());
        for m in members {
            all.extend_from_slice(&m.weights);
            heavy.extend_from_slice(&m.heavy);
        }
        all.sort_unstable_by_key(|(h, _)| *h);
        let mut out: Vec<(u64, f32)> = Vec::with_capacity(all.len());
        for (h, w) in all {
            match out.last_mut() {
                Some(last) if last.0 == h => last.1 += w,
                _ => out.push((h, w)),
            }
        }
        heavy.sort_unstable();
        heavy.dedup();
        Vector { weights: out, heavy }.normalised()
    }
}

/// The candidate `new` most resembles, with its similarity (weighed by [`recency`] of each
/// candidate's `hours` since its last report), when that reaches `threshold`.
/// Only candidates sharing a heavy word with `new` are compared.
pub fn best_match(new: &Vector, candidates: &[&Vector], hours: &[f64], threshold: f64) -> Option<(usize, f64)> {
    candidates
        .iter()
        .zip(hours)
        .enumerate()
        .filter(|(_, (c, _))| new.shares_heavy(c))
        .map(|(i, (c, h))| (i, new.cosine(c) * recency(*h)))
        .filter(|(_, s)| *s >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// At most this many of a group's newest members stand for it.
pub const GROUP_SAMPLE: usize = 8;

/// Groups reports in the order they arrived, as the service does: each joins the group (of
/// reports within `window`) it most resembles, or starts its own; `history` are reports from
/// before (for the word weights). Returns each report's group (the index of its first report).
pub fn replay(
    history: &[Report],
    reports: &[(time::OffsetDateTime, Report)],
    window: time::Duration,
    threshold: f64,
) -> Vec<usize> {
    replay_seen(history, reports, window, threshold, |_, _, _| {})
}

/// [`replay`], showing `look` each new report's vector with its candidates and their hours
/// before it is matched (to measure what the heavy words leave out).
pub fn replay_seen(
    history: &[Report],
    reports: &[(time::OffsetDateTime, Report)],
    window: time::Duration,
    threshold: f64,
    mut look: impl FnMut(&Vector, &[&Vector], &[f64]),
) -> Vec<usize> {
    let mut group: Vec<usize> = Vec::with_capacity(reports.len());
    let mut vectors: Vec<Vector> = Vec::with_capacity(reports.len());
    let mut corpus = Corpus::default();
    for h in history {
        corpus.add(&h.features);
    }
    for (i, (at, r)) in reports.iter().enumerate() {
        let v = Vector::of(r, &corpus);
        let recent: Vec<usize> = (0..i).rev().filter(|&j| *at - reports[j].0 <= window).collect();
        let mut ids: Vec<usize> = recent.iter().map(|&j| group[j]).collect();
        ids.sort_unstable();
        ids.dedup();
        let candidates: Vec<Vector> = ids
            .iter()
            .map(|g| Vector::sum(recent.iter().filter(|&&j| group[j] == *g).take(GROUP_SAMPLE).map(|&j| &vectors[j])))
            .collect();
        let hours: Vec<f64> = ids
            .iter()
            .map(|g| {
                let last = recent.iter().filter(|&&j| group[j] == *g).map(|&j| reports[j].0).max().unwrap_or(*at);
                (*at - last).as_seconds_f64() / 3600.0
            })
            .collect();
        let refs: Vec<&Vector> = candidates.iter().collect();
        look(&v, &refs, &hours);
        let joined = best_match(&v, &refs, &hours, threshold).map(|(k, _)| ids[k]);
        group.push(joined.unwrap_or(i));
        vectors.push(v);
        corpus.add(&r.features);
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
        let mut bg = Corpus::default();
        for r in [&a, &b, &c] {
            bg.add(&r.features);
        }
        let (va, vb, vc) = (Vector::of(&a, &bg), Vector::of(&b, &bg), Vector::of(&c, &bg));
        assert!(va.cosine(&vb) > va.cosine(&vc) && va.cosine(&vb) > 0.1);
        assert!((va.cosine(&va) - 1.0).abs() < 1e-4, "unit length");
        assert_eq!(best_match(&va, &[&vc], &[0.0], DEFAULT_THRESHOLD), None);
        assert_eq!(best_match(&va, &[&vc, &vb], &[0.0, 0.0], 0.1).map(|m| m.0), Some(1));
        assert!(recency(6.0) - 0.5 < 1e-9, "halves in six hours");
    }

    #[test]
    fn heavy_words_are_whole_words_and_a_group_has_each_members() {
        let a =
            Report::new("Lønnskjøringen stopper", "Lønnskjøringen stopper med feilkode 4711.", vec!["Payroll".into()]);
        let b = Report::new("Skriveren", "Skriveren i 2. etasje skriver ikke ut.", vec![]);
        let c = Report::new("Feilkode 4711 igjen", "Samme feilkode 4711 i dag.", vec![]);
        let mut bg = Corpus::default();
        for r in [&a, &b, &c] {
            bg.add(&r.features);
        }
        let (va, vb, vc) = (Vector::of(&a, &bg), Vector::of(&b, &bg), Vector::of(&c, &bg));
        assert!(!va.heavy.is_empty() && va.heavy.len() <= Vector::HEAVY);
        let grams: Vec<u64> =
            a.features.keys().filter(|k| k.starts_with('#') || k.starts_with("product:")).map(|k| hash(k)).collect();
        assert!(va.heavy.iter().all(|h| !grams.contains(h)), "no 4-gram or product among the heavy words");
        assert!(va.shares_heavy(&vc) && vc.shares_heavy(&va), "the error code is heavy in both");
        assert!(!va.shares_heavy(&vb), "nothing heavy in common");
        assert_eq!(best_match(&vb, &[&va], &[0.0], 0.0), None, "not compared at all, even at threshold 0");
        let group = Vector::sum([&va, &vb]);
        assert!(group.shares_heavy(&vc) && group.shares_heavy(&vb), "a group shares what any member shares");
    }

    #[test]
    fn pairwise_precision_and_recall() {
        let truth = [Some("x"), Some("x"), Some("y"), None];
        assert_eq!(pairwise(&[Some(0), Some(0), Some(1), None], &truth), (1.0, 1.0));
        let (p, r) = pairwise(&[Some(0), Some(0), Some(0), None], &truth);
        assert!((p - 1.0 / 3.0).abs() < 1e-9 && (r - 1.0).abs() < 1e-9);
    }
}
