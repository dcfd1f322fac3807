//! Triage that learns: a trained text classifier for the fault class and, as a model of its own,
//! for "possible personal-data breach". Features are the report's own words (subject weighted,
//! quoted replies and signature left out), lightly stemmed, with their character 4-grams so that
//! compounds meet their parts (`lønnsmodulen` ~ `lønn`), and the policy's own terms and products
//! as features of their own. Pure: examples in, a model out; a report in, probabilities out.

mod bayes;
pub mod corpus;
pub mod eval;
mod logistic;

use bayes::Bayes;
use logistic::Logistic;

use crate::domain::Class;
use crate::grouping::{Features, features, report_text};
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
    fn train<'a>(algorithm: Algorithm, examples: impl IntoIterator<Item = (&'a Features, usize)>) -> Self {
        match algorithm {
            Algorithm::Bayes => Learner::Bayes(Bayes::train(examples, ALPHA)),
            Algorithm::Logistic => Learner::Logistic(Logistic::train(examples, logistic::TRAINING)),
        }
    }

    fn probabilities(&self, f: &Features, temperature: f64) -> [f64; N] {
        match self {
            Learner::Bayes(m) => m.probabilities(f, temperature),
            Learner::Logistic(m) => m.probabilities(f, temperature),
        }
    }

    fn strongest(&self, f: &Features, label: usize, other: usize, n: usize) -> Vec<String> {
        match self {
            Learner::Bayes(m) => m.strongest(f, label, other, n),
            Learner::Logistic(m) => m.strongest(f, label, other, n),
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

/// The `n` features with the strongest pull, strongest first (ties by name, so the order is stable).
fn strongest_first(mut pulls: Vec<(f64, &String)>, n: usize) -> Vec<String> {
    pulls.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    pulls.into_iter().take(n).map(|(_, f)| f.clone()).collect()
}

/// A report's features: its own words as the grouping reads them, and the policy's terms and
/// products found in them (`=term`, `=product`).
pub fn report_features(subject: &str, body: &str, policy: &Policy) -> Features {
    own_features(subject, &crate::pipeline::parse::own_text(body, subject), policy)
}

/// The features of a report whose quoted replies are already left out (a parsed mail's own text).
pub fn own_features(subject: &str, own: &str, policy: &Policy) -> Features {
    text_features(&report_text(subject, own), policy)
}

/// The features of a report's text as [`report_text`] gives it.
fn text_features(text: &str, policy: &Policy) -> Features {
    let mut f = features(text);
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
/// `text` it stands for.
fn as_written(feature: &str, text: &str) -> String {
    if let Some(product) = feature.strip_prefix("=product ") {
        return product.to_string();
    }
    if let Some(term) = feature.strip_prefix('=') {
        return term.to_string();
    }
    text.split(|c: char| !c.is_alphanumeric())
        .find(|w| {
            let w = w.to_lowercase();
            crate::grouping::features::stem(&w) == feature
        })
        .map_or_else(|| feature.to_string(), str::to_lowercase)
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
        let read: Vec<(Features, &Labelled)> =
            corpus.iter().map(|e| (report_features(&e.subject, &e.body, policy), e)).collect();
        Model::from_examples(&read, corrections, algorithm)
    }

    fn from_examples(
        read: &[(Features, &Labelled)],
        corrections: &[(Features, Correction)],
        algorithm: Algorithm,
    ) -> Model {
        let labelled_class =
            read.iter().filter_map(|(f, e)| CLASSES.iter().position(|c| *c == e.class).map(|i| (f, i)));
        let corrected_class = corrections.iter().filter_map(|(f, c)| match c {
            Correction::Class(class) => CLASSES.iter().position(|k| k == class).map(|i| (f, i)),
            _ => None,
        });
        let class = Learner::train(algorithm, labelled_class.chain(corrected_class));
        let corrected_privacy = corrections.iter().filter_map(|(f, c)| match c {
            Correction::Privacy(p) => Some((f, usize::from(*p))),
            _ => None,
        });
        let privacy =
            Learner::train(algorithm, read.iter().map(|(f, e)| (f, usize::from(e.privacy))).chain(corrected_privacy));
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
        let mut p = self.predict_features(&text_features(&text, policy));
        for words in [&mut p.words, &mut p.privacy_words] {
            *words = words.iter().map(|w| as_written(w, &text)).collect();
            words.dedup();
        }
        p
    }

    fn predict_features(&self, f: &Features) -> Prediction {
        let p = self.class.probabilities(f, self.class_temperature);
        let mut order = [0, 1, 2];
        order.sort_by(|a, b| p[*b].total_cmp(&p[*a]));
        let privacy = self.privacy.probabilities(f, self.privacy_temperature)[1];
        Prediction {
            class: CLASSES[order[0]],
            probability: p[order[0]],
            privacy,
            words: self.class.strongest(f, order[0], order[1], 5),
            privacy_words: self.privacy.strongest(f, 1, 0, 5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(id: &str, subject: &str, body: &str, class: Class, privacy: bool) -> Labelled {
        Labelled { id: id.into(), subject: subject.into(), body: body.into(), class, privacy }
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
