//! Multinomial logistic regression over weighted features (each report's features scaled to unit
//! length), trained by AdaGrad with L2 regularisation: better calibrated than naive Bayes when many
//! features say the same thing (a word and its character n-grams), and as explainable — a
//! feature's pull toward a label is its weight times its value. The weights are the mean of several
//! short fits, each taking the examples in another order: one long fit leans on the order it saw
//! last, and the mean of short ones decides unseen reports better (docs/triage.md).

use std::collections::HashMap;

use super::softmax;
use super::vocabulary::{Row, Vocabulary};
use crate::grouping::Features;

#[derive(Debug, Clone)]
pub struct Logistic<const N: usize> {
    index: HashMap<String, usize>,
    /// Per feature, one weight per label.
    weights: Vec<[f64; N]>,
    bias: [f64; N],
}

/// How training goes: how many fits are averaged, passes over the examples in each, step size, and
/// how strongly weights are pulled to 0.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub fits: usize,
    pub epochs: usize,
    pub rate: f64,
    pub l2: f64,
}

/// Eight fits of five passes: as many passes as one fit of forty, which it replaced (docs/triage.md).
pub const TRAINING: Training = Training { fits: 8, epochs: 5, rate: 0.5, l2: 1e-4 };

/// `features` as `(index, value)` pairs of unit length, known features only.
fn vector(index: &HashMap<String, usize>, features: &Features) -> Vec<(usize, f64)> {
    let mut v: Vec<(usize, f64)> = features.iter().filter_map(|(f, w)| index.get(f).map(|i| (*i, *w))).collect();
    v.sort_unstable_by_key(|(i, _)| *i);
    let norm = v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
    v
}

/// One fit by AdaGrad over the `labels.len()` examples, whose known features (scaled) `read` puts
/// in its buffer, taking them in an order of its own (`fit` seeds it): fixed, so training is the
/// same on every run.
fn fit_once<const N: usize>(
    read: impl Fn(usize, &mut Vec<(usize, f64)>),
    labels: &[usize],
    features: usize,
    t: Training,
    fit: u64,
) -> (Vec<[f64; N]>, [f64; N]) {
    let mut row: Vec<(usize, f64)> = Vec::new();
    let mut weights = vec![[0.0; N]; features];
    let mut bias = [0.0; N];
    let mut g2 = vec![[1e-8; N]; features];
    let mut gb2 = [1e-8; N];
    let mut order: Vec<usize> = (0..labels.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ fit.wrapping_mul(0x2545_f491_4f6c_dd1d);
    for _ in 0..t.epochs {
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for &r in &order {
            let label = labels[r];
            read(r, &mut row);
            let mut z = bias;
            for (i, v) in &row {
                for (k, zk) in z.iter_mut().enumerate() {
                    *zk += weights[*i][k] * v;
                }
            }
            let p = softmax(z, 1.0);
            for k in 0..N {
                let err = p[k] - if k == label { 1.0 } else { 0.0 };
                gb2[k] += err * err;
                bias[k] -= t.rate * err / gb2[k].sqrt();
                for (i, v) in &row {
                    let g = err * v + t.l2 * weights[*i][k];
                    g2[*i][k] += g * g;
                    weights[*i][k] -= t.rate * g / g2[*i][k].sqrt();
                }
            }
        }
    }
    (weights, bias)
}

impl<const N: usize> Logistic<N> {
    /// From `(row, label index)` pairs of `vocabulary`'s features, over the features `keep` takes
    /// (others are unknown to the model, at training and when predicting).
    pub fn train<'a>(
        vocabulary: &Vocabulary,
        examples: impl IntoIterator<Item = (&'a Row, usize)>,
        t: Training,
        keep: fn(&str) -> bool,
    ) -> Self {
        let examples: Vec<(&Row, usize)> = examples.into_iter().collect();
        // The model's own index of each kept feature, in the order first seen, by feature id (a
        // row is read through it at every pass rather than copied: training's memory stays small).
        let mut local: Vec<Option<usize>> = vec![None; vocabulary.len()];
        let mut index: HashMap<String, usize> = HashMap::new();
        for (row, _) in &examples {
            for (id, _) in row.iter() {
                let name = vocabulary.name(*id);
                if let Some(slot @ None) = local.get_mut(*id as usize)
                    && keep(name)
                {
                    *slot = Some(index.len());
                    index.insert(name.to_string(), index.len());
                }
            }
        }
        let known =
            |row: &'a Row| row.iter().filter_map(|(id, w)| local.get(*id as usize).copied().flatten().map(|i| (i, *w)));
        let norms: Vec<f64> = examples
            .iter()
            .map(|(row, _)| {
                let norm = known(row).map(|(_, w)| w * w).sum::<f64>().sqrt();
                if norm > 0.0 { norm } else { 1.0 }
            })
            .collect();
        let features = index.len();
        let mut m = Logistic { weights: vec![[0.0; N]; features], index, bias: [0.0; N] };
        let read = |r: usize, buffer: &mut Vec<(usize, f64)>| {
            buffer.clear();
            buffer.extend(known(examples[r].0).map(|(i, w)| (i, w / norms[r])));
        };
        let labels: Vec<usize> = examples.iter().map(|(_, label)| *label).collect();
        let fits = t.fits.max(1);
        let share = 1.0 / fits as f64;
        for fit in 0..fits {
            let (weights, bias) = fit_once::<N>(read, &labels, features, t, fit as u64);
            for (sum, w) in m.weights.iter_mut().chain([&mut m.bias]).zip(weights.iter().chain([&bias])) {
                sum.iter_mut().zip(w).for_each(|(s, w)| *s += w * share);
            }
        }
        m
    }

    fn logits(&self, x: &[(usize, f64)]) -> [f64; N] {
        let mut z = self.bias;
        for (i, v) in x {
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += self.weights[*i][k] * v;
            }
        }
        z
    }

    pub fn probabilities(&self, features: &Features, temperature: f64) -> [f64; N] {
        softmax(self.logits(&vector(&self.index, features)), temperature)
    }

    /// The probabilities, and the `n` whole words that pulled most toward the label `pick` chooses
    /// from them rather than its runner-up, strongest first: the report's features looked up once.
    pub fn assess(
        &self,
        features: &[(&String, f64)],
        temperature: f64,
        n: usize,
        pick: impl Fn(&[f64; N]) -> (usize, usize),
    ) -> ([f64; N], Vec<String>) {
        let mut named: Vec<(usize, f64, &String)> =
            features.iter().filter_map(|(f, w)| self.index.get(*f).map(|i| (*i, *w, *f))).collect();
        // In index order, as in training: the sums come out the same to the last bit.
        named.sort_unstable_by_key(|(i, _, _)| *i);
        let norm = named.iter().map(|(_, w, _)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            named.iter_mut().for_each(|(_, w, _)| *w /= norm);
        }
        let x: Vec<(usize, f64)> = named.iter().map(|(i, w, _)| (*i, *w)).collect();
        let p = softmax(self.logits(&x), temperature);
        let (label, other) = pick(&p);
        let pulls: Vec<(f64, &String)> = named
            .iter()
            .map(|(i, v, f)| (v * (self.weights[*i][label] - self.weights[*i][other]), *f))
            .filter(|(pull, f)| *pull > 0.0 && super::explains(f))
            .collect();
        (p, super::strongest_first(pulls, n))
    }

    /// The whole words that pulled most toward `label` rather than `other`, strongest first.
    #[cfg(test)]
    pub fn strongest(&self, features: &Features, label: usize, other: usize, n: usize) -> Vec<String> {
        let pairs: Vec<(&String, f64)> = features.iter().map(|(f, w)| (f, *w)).collect();
        self.assess(&pairs, 1.0, n, |_| (label, other)).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(words: &[&str]) -> Features {
        words.iter().map(|w| (w.to_string(), 1.0)).collect()
    }

    #[test]
    fn separates_what_it_was_shown_and_explains_with_words() {
        let ex =
            [f(&["lønn", "feriepenger"]), f(&["lønn", "trekk"]), f(&["citrix", "henger"]), f(&["skriver", "#skri"])];
        let mut v = Vocabulary::default();
        let rows: Vec<Row> = ex.iter().map(|f| v.row_of(f)).collect();
        let m: Logistic<2> =
            Logistic::train(&v, [(&rows[0], 0), (&rows[1], 0), (&rows[2], 1), (&rows[3], 1)], TRAINING, |_| true);
        let p = m.probabilities(&f(&["lønn"]), 1.0);
        assert!(p[0] > 0.6 && (p[0] + p[1] - 1.0).abs() < 1e-9, "{p:?}");
        assert!(m.probabilities(&f(&["citrix"]), 1.0)[1] > 0.6);
        assert_eq!(m.strongest(&f(&["lønn", "citrix"]), 0, 1, 3), ["lønn"]);
        let unknown = m.probabilities(&f(&["ukjent"]), 1.0);
        assert!((unknown[0] - 0.5).abs() < 0.2, "no evidence, near the middle: {unknown:?}");
    }
}
