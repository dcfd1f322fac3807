//! Triage that learns: a trained text classifier for the fault class and, as a model of its own,
//! for "possible personal-data breach". Features are the report's own words (subject weighted,
//! quoted replies and signature left out), lightly stemmed, with their character 4-grams so that
//! compounds meet their parts (`lønnsmodulen` ~ `lønn`), pairs of neighbouring words (`sendt til`),
//! and the policy's own terms and products as features of their own; the privacy model also weighs
//! function words and pairs one word apart. Pure: examples in, a model out; a report in,
//! probabilities out.

mod bayes;
pub mod corpus;
pub mod eval;
mod logistic;
mod vocabulary;

use bayes::Bayes;
use logistic::Logistic;
use vocabulary::{Row, Vocabulary};

use crate::domain::Class;
use crate::grouping::features::STOP_MARK;
use crate::grouping::{Features, Reading, read, report_text};
use crate::policy::{Policy, Tag};
use crate::text::normalize;

/// A report with the labels staff (or the corpus) gave it.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub id: String,
    pub subject: String,
    /// The report's text as written (quoted replies and signature are left out when it is read).
    pub body: String,
    pub class: Class,
    /// Whether the class model learns from it (else the privacy model alone).
    pub teaches_class: bool,
    pub privacy: bool,
}

/// What staff corrected in the web view, kept as a training example with the report's features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Correction {
    /// Reclassified to this class.
    Class(Class),
    /// Flagged as a possible breach (`true`) or found not to be one (`false`).
    Privacy(bool),
    /// Moved to this municipality (`None`: none of the region's). Kept and listed; the model does
    /// not decide the municipality (the sender's domain does), so it does not train on it.
    Municipality(Option<String>),
}

impl Correction {
    /// `(kind, label)` as stored.
    pub fn to_stored(&self) -> (&'static str, String) {
        match self {
            Correction::Class(c) => ("class", c.as_str().to_string()),
            Correction::Privacy(p) => ("privacy", p.to_string()),
            Correction::Municipality(m) => ("municipality", m.clone().unwrap_or_default()),
        }
    }

    pub fn from_stored(kind: &str, label: &str) -> Option<Correction> {
        match kind {
            "class" => label.parse().ok().map(Correction::Class),
            "privacy" => label.parse().ok().map(Correction::Privacy),
            "municipality" => Some(Correction::Municipality((!label.is_empty()).then(|| label.to_string()))),
            _ => None,
        }
    }
}

/// The model in use, shared by every clone of the policy that holds it and replaced when the
/// region's corrections retrain it; a decision reads the model once.
#[derive(Debug)]
pub struct ModelCell(std::sync::RwLock<std::sync::Arc<Model>>);

impl ModelCell {
    pub fn new(model: std::sync::Arc<Model>) -> ModelCell {
        ModelCell(std::sync::RwLock::new(model))
    }

    pub fn current(&self) -> std::sync::Arc<Model> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn replace(&self, model: std::sync::Arc<Model>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = model;
    }
}

/// The classes the model decides between, in its label order.
const CLASSES: [Class; 3] = Class::DECIDABLE;

/// Fitted by cross-validation on the shipped corpus (see `docs/triage.md`): the temperatures that
/// make the probabilities honest.
const CLASS_TEMPERATURE: f64 = 1.0;
const PRIVACY_TEMPERATURE: f64 = 1.0;
const BAYES_TEMPERATURE: f64 = 16.0;
const ALPHA: f64 = 0.1;

/// Which learner: naive Bayes, or logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Bayes,
    Logistic,
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bayes" => Ok(Algorithm::Bayes),
            "logistic" => Ok(Algorithm::Logistic),
            other => Err(format!("{other:?} is not bayes or logistic")),
        }
    }
}

#[derive(Debug, Clone)]
enum Learner<const N: usize> {
    Bayes(Bayes<N>),
    Logistic(Logistic<N>),
}

impl<const N: usize> Learner<N> {
    fn train<'a>(
        algorithm: Algorithm,
        vocabulary: &Vocabulary,
        examples: impl IntoIterator<Item = (&'a Row, usize)>,
        keep: fn(&str) -> bool,
    ) -> Self {
        match algorithm {
            Algorithm::Bayes => Learner::Bayes(Bayes::train(vocabulary, examples, ALPHA, keep)),
            Algorithm::Logistic => Learner::Logistic(Logistic::train(vocabulary, examples, logistic::TRAINING, keep)),
        }
    }

    fn probabilities(&self, f: &Features, temperature: f64) -> [f64; N] {
        match self {
            Learner::Bayes(m) => m.probabilities(f, temperature),
            Learner::Logistic(m) => m.probabilities(f, temperature),
        }
    }

    /// The probabilities, and the `n` features that pulled most toward the label `pick` chooses
    /// from them rather than its runner-up.
    fn assess(
        &self,
        pairs: &[(&String, f64)],
        temperature: f64,
        n: usize,
        pick: impl Fn(&[f64; N]) -> (usize, usize),
    ) -> ([f64; N], Vec<String>) {
        match self {
            Learner::Bayes(m) => {
                let f: Features = pairs.iter().map(|(k, v)| ((*k).clone(), *v)).collect();
                let f = &f;
                let p = m.probabilities(f, temperature);
                let (label, other) = pick(&p);
                (p, m.strongest(f, label, other, n))
            }
            Learner::Logistic(m) => m.assess(pairs, temperature, n, pick),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    class: Learner<3>,
    privacy: Learner<2>,
    class_temperature: f64,
    privacy_temperature: f64,
}

/// What the model makes of one report.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub class: Class,
    /// The probability of `class`.
    pub probability: f64,
    /// The probability that it is a possible personal-data breach.
    pub privacy: f64,
    /// The words that moved the decision most toward `class` (against the runner-up).
    pub words: Vec<String>,
    /// The words that moved most toward a possible breach.
    pub privacy_words: Vec<String>,
}

/// Probabilities from scores, scaled by `1 / temperature`.
fn softmax<const N: usize>(logits: [f64; N], temperature: f64) -> [f64; N] {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp = logits.map(|l| ((l - max) / temperature).exp());
    let sum: f64 = exp.iter().sum();
    exp.map(|e| e / sum)
}

/// The likeliest class and the runner-up (the first of equals first).
fn top_two(p: &[f64; 3]) -> (usize, usize) {
    let mut order = [0, 1, 2];
    order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
    (order[0], order[1])
}

/// Whether a feature can explain a decision to a reader: words and phrases do; a 4-gram is no
/// word, and a function word alone ("the", "var") says nothing to a reader, though it counts.
fn explains(feature: &str) -> bool {
    let lone_function_word = feature.starts_with(STOP_MARK) && !feature.contains(' ');
    !feature.starts_with('#') && !lone_function_word
}

/// The `n` features with the strongest pull, strongest first (ties by name, so the order is stable).
fn strongest_first(mut pulls: Vec<(f64, &String)>, n: usize) -> Vec<String> {
    pulls.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    pulls.into_iter().take(n).map(|(_, f)| f.clone()).collect()
}

/// The weight of a word's 4-grams in the model, against the grouping's: the neighbouring pairs
/// carry much of what the 4-grams would, and fewer of them made the model better on unseen reports
/// (docs/triage.md).
const GRAM_SCALE: f64 = 0.5;

/// What the class model weighs: the words, their 4-grams and neighbouring pairs of them, not the
/// function words or pairs one word apart — they help the privacy model, and the class model
/// learned from them how people write rather than what is wrong ("når jeg", "jeg trykker").
fn class_feature(f: &str) -> bool {
    !f.contains(STOP_MARK) && !f.contains(" _ ")
}

fn privacy_feature(_: &str) -> bool {
    true
}

/// A report's features: its own words and phrases as read from its text, and the policy's terms
/// and products found in them (`=term`, `=product`).
pub fn report_features(subject: &str, body: &str, policy: &Policy) -> Features {
    own_features(subject, &crate::pipeline::parse::own_text(body, subject), policy)
}

/// The features of a report whose quoted replies are already left out (a parsed mail's own text).
pub fn own_features(subject: &str, own: &str, policy: &Policy) -> Features {
    let text = report_text(subject, own);
    read_features(&text, &read(&text), policy)
}

/// The features of a report's text as [`report_text`] gives it, read as `reading`.
fn read_features(text: &str, reading: &Reading, policy: &Policy) -> Features {
    let terms = term_features(text, policy);
    borrowed(reading, &terms).into_iter().map(|(k, v)| (k.clone(), v)).collect()
}

/// The report's features as the model weighs them, borrowed from its reading and the terms found:
/// predicting copies no feature's name.
fn borrowed<'a>(reading: &'a Reading, terms: &'a Features) -> Vec<(&'a String, f64)> {
    let mut f = Vec::with_capacity(reading.words.len() + reading.phrases.len() + terms.len());
    f.extend(reading.words.iter().map(|(k, v)| (k, if k.starts_with('#') { v * GRAM_SCALE } else { *v })));
    f.extend(reading.phrases.iter().map(|(k, v)| (k, *v)));
    f.extend(terms.iter().map(|(k, v)| (k, *v)));
    f
}

/// The policy's terms and products found in `text`, as features of their own (`=term`, `=product`).
fn term_features(text: &str, policy: &Policy) -> Features {
    let mut f = Features::new();
    let rules = &policy.classify;
    for hit in rules.terms.find(&normalize(text)) {
        let term = rules.terms.term(hit.term);
        let name = match term.tag {
            Tag::Product(i) => format!("=product {}", policy.products.get(i).map_or("", String::as_str)),
            _ => format!("={}", term.text),
        };
        *f.entry(name).or_default() += 1.0;
    }
    f
}

/// A feature as a reader knows it: a policy term or product by its name, a stem by the first word of
/// `text` it stands for, a pair as its two words, a function word as itself.
fn as_written(feature: &str, text: &str) -> String {
    if let Some(product) = feature.strip_prefix("=product ") {
        return product.to_string();
    }
    if let Some(term) = feature.strip_prefix('=') {
        return term.to_string();
    }
    let feature = feature.replace(STOP_MARK, "");
    let feature = feature.as_str();
    if let Some((a, b)) = feature.split_once(" _ ") {
        return format!("{} … {}", word_written(a, text), word_written(b, text));
    }
    if let Some((a, b)) = feature.split_once(' ') {
        return format!("{} {}", word_written(a, text), word_written(b, text));
    }
    word_written(feature, text)
}

/// The first word of `text` whose stem is `stem`, lower-cased (the stem itself if none is).
fn word_written(stem: &str, text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .find(|w| crate::grouping::features::stem(&w.to_lowercase()) == stem)
        .map_or_else(|| stem.to_string(), str::to_lowercase)
}

impl Model {
    /// Trains both models on `examples`.
    pub fn train(examples: &[Labelled], policy: &Policy, algorithm: Algorithm) -> Model {
        Model::train_with(examples, &[], policy, algorithm)
    }

    /// Trains on the labelled reports and the region's corrections: a class correction adds its
    /// report to the class model's examples, a privacy one to the privacy model's.
    pub fn train_with(
        corpus: &[Labelled],
        corrections: &[(Features, Correction)],
        policy: &Policy,
        algorithm: Algorithm,
    ) -> Model {
        // Each report's features become a row as they are read: the names are kept once.
        let mut vocabulary = Vocabulary::default();
        let rows: Vec<(Row, &Labelled)> =
            corpus.iter().map(|e| (vocabulary.row(report_features(&e.subject, &e.body, policy)), e)).collect();
        Model::from_rows(vocabulary, &rows, corrections, algorithm)
    }

    /// As [`Model::train_with`], for reports already read (cross-validation reads each once).
    fn from_examples(
        read: &[(Features, &Labelled)],
        corrections: &[(Features, Correction)],
        algorithm: Algorithm,
    ) -> Model {
        let mut vocabulary = Vocabulary::default();
        let rows: Vec<(Row, &Labelled)> = read.iter().map(|(f, e)| (vocabulary.row_of(f), *e)).collect();
        Model::from_rows(vocabulary, &rows, corrections, algorithm)
    }

    /// Both models from the corpus's rows of `vocabulary` and the corrections, whose features
    /// join the vocabulary after the corpus's.
    fn from_rows(
        mut vocabulary: Vocabulary,
        rows: &[(Row, &Labelled)],
        corrections: &[(Features, Correction)],
        algorithm: Algorithm,
    ) -> Model {
        let corrections: Vec<(Row, Correction)> =
            corrections.iter().map(|(f, c)| (vocabulary.row_of(f), c.clone())).collect();
        let vocabulary = &vocabulary;
        let labelled_class = rows
            .iter()
            .filter(|(_, e)| e.teaches_class)
            .filter_map(|(f, e)| CLASSES.iter().position(|c| *c == e.class).map(|i| (f, i)));
        let corrected_class = corrections.iter().filter_map(|(f, c)| match c {
            Correction::Class(class) => CLASSES.iter().position(|k| k == class).map(|i| (f, i)),
            _ => None,
        });
        let class = Learner::train(algorithm, vocabulary, labelled_class.chain(corrected_class), class_feature);
        let corrected_privacy = corrections.iter().filter_map(|(f, c)| match c {
            Correction::Privacy(p) => Some((f, usize::from(*p))),
            _ => None,
        });
        let privacy = Learner::train(
            algorithm,
            vocabulary,
            rows.iter().map(|(f, e)| (f, usize::from(e.privacy))).chain(corrected_privacy),
            privacy_feature,
        );
        let (class_temperature, privacy_temperature) = match algorithm {
            Algorithm::Bayes => (BAYES_TEMPERATURE, BAYES_TEMPERATURE),
            Algorithm::Logistic => (CLASS_TEMPERATURE, PRIVACY_TEMPERATURE),
        };
        Model { class, privacy, class_temperature, privacy_temperature }
    }

    /// With other temperatures (for fitting them).
    pub fn with_temperatures(mut self, class: f64, privacy: f64) -> Model {
        self.class_temperature = class;
        self.privacy_temperature = privacy;
        self
    }

    pub fn predict(&self, subject: &str, body: &str, policy: &Policy) -> Prediction {
        self.predict_features(&report_features(subject, body, policy))
    }

    /// A parsed mail's prediction: its subject and own text (quoted replies already left out), with
    /// the deciding words as the report wrote them (`feriepengene`, not the stem `feriepeng`).
    pub fn predict_own(&self, subject: &str, own: &str, policy: &Policy) -> Prediction {
        let text = report_text(subject, own);
        self.predict_read(&text, &read(&text), policy)
    }

    /// As [`Model::predict_own`], for a report's text (as [`report_text`] gives it) already read.
    pub fn predict_read(&self, text: &str, reading: &Reading, policy: &Policy) -> Prediction {
        let terms = term_features(text, policy);
        let mut p = self.predict_pairs(&borrowed(reading, &terms));
        for words in [&mut p.words, &mut p.privacy_words] {
            let mut written: Vec<String> = Vec::with_capacity(words.len());
            for w in words.iter().map(|w| as_written(w, text)) {
                if !written.contains(&w) {
                    written.push(w);
                }
            }
            *words = written;
        }
        p
    }

    fn predict_features(&self, f: &Features) -> Prediction {
        self.predict_pairs(&f.iter().map(|(k, v)| (k, *v)).collect::<Vec<_>>())
    }

    fn predict_pairs(&self, f: &[(&String, f64)]) -> Prediction {
        let (p, words) = self.class.assess(f, self.class_temperature, 5, top_two);
        let best = top_two(&p).0;
        let (privacy, privacy_words) = self.privacy.assess(f, self.privacy_temperature, 5, |_| (1, 0));
        Prediction { class: CLASSES[best], probability: p[best], privacy: privacy[1], words, privacy_words }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(id: &str, subject: &str, body: &str, class: Class, privacy: bool) -> Labelled {
        Labelled { id: id.into(), subject: subject.into(), body: body.into(), class, teaches_class: true, privacy }
    }

    #[test]
    fn compounds_meet_their_parts_and_the_reasons_are_words() {
        let policy = Policy::default_region().expect("policy");
        let train = [
            ex("1", "Lønnskjøringen stopper", "Feriepengene blir beregnet for lavt.", Class::Application, false),
            ex("2", "Trekk blir feil", "Skattetrekket på lønnsslippen stemmer ikke.", Class::Application, false),
            ex("3", "Citrix henger", "Skjermen fryser når jeg logger på terminalserveren.", Class::Operations, false),
            ex("4", "Skriveren", "Skriveren i andre etasje skriver ikke ut.", Class::Operations, false),
            ex("5", "Glemt passord", "Jeg har glemt passordet og er låst ute.", Class::Access, false),
            ex("6", "Ny bruker", "Ny ansatt trenger tilgang og rettigheter.", Class::Access, false),
            ex("7", "Lønnsslipper på avveie", "Alle lønnsslippene lå åpent på fellesdisken.", Class::Application, true),
        ];
        for algorithm in [Algorithm::Bayes, Algorithm::Logistic] {
            let m = Model::train(&train, &policy, algorithm);
            let p = m.predict("Lønnsmodulen", "Beregningen av feriepengene er gal igjen.", &policy);
            assert_eq!(p.class, Class::Application, "{p:?}");
            assert!(p.words.iter().any(|w| w.starts_with("feriepeng")), "{p:?}");
            let p = m.predict("Innlogging", "Kontoen er låst, jeg har glemt passordet.", &policy);
            assert_eq!(p.class, Class::Access, "{p:?}");
            let breach = m.predict("Fellesdisken", "Lønnsslippene til hele avdelingen ligger åpent der.", &policy);
            let plain = m.predict("Skriveren", "Skriveren skriver ikke ut.", &policy);
            assert!(breach.privacy > plain.privacy, "{breach:?} {plain:?}");
        }
    }
}
