//! Multinomial logistic regression over weighted features (each report's features scaled to unit
//! length), trained by AdaGrad with L2 regularisation: better calibrated than naive Bayes when many
//! features say the same thing (a word and its character n-grams), and as explainable — a
//! feature's pull toward a label is its weight times its value.

use std::collections::HashMap;

use super::softmax;
use crate::grouping::Features;

#[derive(Debug, Clone)]
pub struct Logistic<const N: usize> {
    index: HashMap<String, usize>,
    /// Per feature, one weight per label.
    weights: Vec<[f64; N]>,
    bias: [f64; N],
}

/// How training goes: passes over the examples, step size, and how strongly weights are pulled to 0.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub epochs: usize,
    pub rate: f64,
    pub l2: f64,
}

pub const TRAINING: Training = Training { epochs: 40, rate: 0.5, l2: 1e-4 };

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

impl<const N: usize> Logistic<N> {
    pub fn train<'a>(examples: impl IntoIterator<Item = (&'a Features, usize)>, t: Training) -> Self {
        let examples: Vec<(&Features, usize)> = examples.into_iter().collect();
        let mut index: HashMap<String, usize> = HashMap::new();
        for (f, _) in &examples {
            for k in f.keys() {
                let next = index.len();
                index.entry(k.clone()).or_insert(next);
            }
        }
        let rows: Vec<(Vec<(usize, f64)>, usize)> = examples.iter().map(|(f, l)| (vector(&index, f), *l)).collect();
        let mut m = Logistic { weights: vec![[0.0; N]; index.len()], index, bias: [0.0; N] };
        let mut g2 = vec![[1e-8; N]; m.weights.len()];
        let mut gb2 = [1e-8; N];
        // A fixed order that mixes the labels, so training is the same on every run.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..t.epochs {
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                order.swap(i, (seed % (i as u64 + 1)) as usize);
            }
            for &r in &order {
                let (x, label) = &rows[r];
                let p = m.softmax_of(x);
                for k in 0..N {
                    let err = p[k] - if k == *label { 1.0 } else { 0.0 };
                    gb2[k] += err * err;
                    m.bias[k] -= t.rate * err / gb2[k].sqrt();
                    for (i, v) in x {
                        let g = err * v + t.l2 * m.weights[*i][k];
                        g2[*i][k] += g * g;
                        m.weights[*i][k] -= t.rate * g / g2[*i][k].sqrt();
                    }
                }
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

    fn softmax_of(&self, x: &[(usize, f64)]) -> [f64; N] {
        softmax(self.logits(x), 1.0)
    }

    pub fn probabilities(&self, features: &Features, temperature: f64) -> [f64; N] {
        softmax(self.logits(&vector(&self.index, features)), temperature)
    }

    /// The whole words that pulled most toward `label` rather than `other`, strongest first.
    pub fn strongest(&self, features: &Features, label: usize, other: usize, n: usize) -> Vec<String> {
        let x = vector(&self.index, features);
        let names: HashMap<usize, &String> =
            features.keys().filter_map(|f| self.index.get(f).map(|i| (*i, f))).collect();
        let pulls: Vec<(f64, &String)> = x
            .iter()
            .filter_map(|(i, v)| Some((v * (self.weights[*i][label] - self.weights[*i][other]), *names.get(i)?)))
            .filter(|(pull, f)| *pull > 0.0 && !f.starts_with('#'))
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
    fn separates_what_it_was_shown_and_explains_with_words() {
        let ex =
            [f(&["lønn", "feriepenger"]), f(&["lønn", "trekk"]), f(&["citrix", "henger"]), f(&["skriver", "#skri"])];
        let m: Logistic<2> = Logistic::train([(&ex[0], 0), (&ex[1], 0), (&ex[2], 1), (&ex[3], 1)], TRAINING);
        let p = m.probabilities(&f(&["lønn"]), 1.0);
        assert!(p[0] > 0.6 && (p[0] + p[1] - 1.0).abs() < 1e-9, "{p:?}");
        assert!(m.probabilities(&f(&["citrix"]), 1.0)[1] > 0.6);
        assert_eq!(m.strongest(&f(&["lønn", "citrix"]), 0, 1, 3), ["lønn"]);
        let unknown = m.probabilities(&f(&["ukjent"]), 1.0);
        assert!((unknown[0] - 0.5).abs() < 0.2, "no evidence, near the middle: {unknown:?}");
    }
}
