//! Multinomial naive Bayes over weighted features, with Laplace smoothing: small, fast to train
//! (one pass over the examples), and explainable — every feature's pull toward each label is a
//! difference of two logarithms.

use std::collections::HashMap;

use super::softmax;
use super::vocabulary::{Row, Vocabulary};
use crate::grouping::Features;

/// A model over `N` labels.
#[derive(Debug, Clone)]
pub struct Bayes<const N: usize> {
    /// log P(label).
    prior: [f64; N],
    /// Per feature, its weight summed over the examples of each label.
    counts: HashMap<String, [f64; N]>,
    totals: [f64; N],
    /// Laplace smoothing.
    alpha: f64,
}

impl<const N: usize> Bayes<N> {
    /// From `(row, label index)` pairs of `vocabulary`'s features, those `keep` takes; a label without examples
    /// keeps a tiny prior.
    pub fn train<'a>(
        vocabulary: &Vocabulary,
        examples: impl IntoIterator<Item = (&'a Row, usize)>,
        alpha: f64,
        keep: fn(&str) -> bool,
    ) -> Self {
        let mut counts: HashMap<String, [f64; N]> = HashMap::new();
        let mut totals = [0.0; N];
        let mut docs = [0.0f64; N];
        for (row, label) in examples {
            docs[label] += 1.0;
            for (f, w) in row.iter().map(|(id, w)| (vocabulary.name(*id), w)).filter(|(f, _)| keep(f)) {
                counts.entry(f.to_string()).or_insert([0.0; N])[label] += w;
                totals[label] += w;
            }
        }
        let all: f64 = docs.iter().sum::<f64>().max(1.0);
        let prior = docs.map(|d| ((d + 0.5) / (all + 0.5 * N as f64)).ln());
        Bayes { prior, counts, totals, alpha }
    }

    /// log P(feature | label) for a feature seen in training.
    fn log_likelihood(&self, counts: &[f64; N], label: usize) -> f64 {
        let vocab = self.counts.len() as f64;
        ((counts[label] + self.alpha) / (self.totals[label] + self.alpha * vocab)).ln()
    }

    /// The probability of each label, with the evidence scaled by `1 / temperature` (the sum of many
    /// correlated features makes raw naive Bayes far too sure; the temperature is fitted to make
    /// its probabilities honest).
    pub fn probabilities(&self, features: &Features, temperature: f64) -> [f64; N] {
        let mut score = [0.0; N];
        for (f, w) in features {
            // Words never seen in training say nothing about any label.
            let Some(c) = self.counts.get(f) else { continue };
            for (label, s) in score.iter_mut().enumerate() {
                *s += w * self.log_likelihood(c, label);
            }
        }
        let mut logits = [0.0; N];
        for label in 0..N {
            logits[label] = self.prior[label] * temperature + score[label];
        }
        // The prior is not scaled: only the evidence is.
        softmax(logits, temperature)
    }

    /// The features that pulled most toward `label` rather than `other`, strongest first: whole
    /// words only (character n-grams, `#…`, are evidence but not words to show).
    pub fn strongest(&self, features: &Features, label: usize, other: usize, n: usize) -> Vec<String> {
        let pulls: Vec<(f64, &String)> = features
            .iter()
            .filter(|(f, _)| super::explains(f))
            .filter_map(|(f, w)| {
                let c = self.counts.get(f)?;
                Some((w * (self.log_likelihood(c, label) - self.log_likelihood(c, other)), f))
            })
            .filter(|(pull, _)| *pull > 0.0)
            .collect();
        super::strongest_first(pulls, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(words: &[&str]) -> Features {
        words.iter().map(|w| (w.to_string(), 1.0)).collect()
    }

    #[test]
    fn learns_which_words_go_with_which_label_and_says_so() {
        let (a, b, c, d) =
            (f(&["lønn", "feriepenger"]), f(&["lønn", "trekk"]), f(&["citrix", "henger"]), f(&["skriver"]));
        let mut v = Vocabulary::default();
        let rows: Vec<Row> = [&a, &b, &c, &d].map(|f| v.row_of(f)).to_vec();
        let m: Bayes<2> = Bayes::train(&v, [(&rows[0], 0), (&rows[1], 0), (&rows[2], 1), (&rows[3], 1)], 1.0, |_| true);
        let p = m.probabilities(&f(&["lønn", "ukjent"]), 1.0);
        assert!(p[0] > 0.7 && (p[0] + p[1] - 1.0).abs() < 1e-9, "{p:?}");
        let p = m.probabilities(&f(&["citrix"]), 1.0);
        assert!(p[1] > p[0], "{p:?}");
        assert_eq!(m.strongest(&f(&["lønn", "citrix", "#lønn"]), 0, 1, 3), ["lønn"]);
        // A higher temperature makes it less sure, never the other way round.
        let hot = m.probabilities(&f(&["lønn", "feriepenger"]), 4.0);
        let cold = m.probabilities(&f(&["lønn", "feriepenger"]), 1.0);
        assert!(hot[0] < cold[0] && hot[0] > 0.5, "{hot:?} {cold:?}");
    }

    #[test]
    fn nothing_known_leaves_the_prior() {
        let (a, b) = (f(&["x"]), f(&["y"]));
        let mut v = Vocabulary::default();
        let rows = [v.row_of(&a), v.row_of(&b)];
        let m: Bayes<2> = Bayes::train(&v, [(&rows[0], 0), (&rows[1], 1)], 1.0, |_| true);
        let p = m.probabilities(&f(&["never", "seen"]), 1.0);
        assert!((p[0] - 0.5).abs() < 1e-9, "{p:?}");
    }
}
