//! A report's text as weighted features for comparing reports: its subject and own words (no
//! signature, no quoted text), lower-cased, without stop words and numbers, lightly stemmed
//! (Norwegian and English endings), plus the character 4-grams of each word so that compounds
//! and spelling variants still meet (`lønnsslippen` ~ `lønnsslipp`, `innlogging` ~ `logge inn`).

use std::collections::HashMap;

/// Words that say nothing about which fault it is: function words in bokmål, nynorsk and English,
/// and what every report says ("feil", "hei", "takk").
const STOP: &[&str] = &[
    "og",
    "i",
    "jeg",
    "eg",
    "det",
    "at",
    "en",
    "ein",
    "et",
    "eit",
    "den",
    "til",
    "er",
    "som",
    "på",
    "de",
    "med",
    "han",
    "av",
    "ikke",
    "ikkje",
    "der",
    "så",
    "var",
    "meg",
    "seg",
    "men",
    "ett",
    "har",
    "om",
    "vi",
    "me",
    "min",
    "mitt",
    "ha",
    "hadde",
    "hun",
    "ho",
    "nå",
    "no",
    "over",
    "da",
    "då",
    "ved",
    "fra",
    "frå",
    "du",
    "ut",
    "sin",
    "dem",
    "oss",
    "opp",
    "man",
    "kan",
    "hans",
    "hvor",
    "kor",
    "eller",
    "hva",
    "kva",
    "skal",
    "selv",
    "sjøl",
    "her",
    "alle",
    "vil",
    "bli",
    "ble",
    "blei",
    "blitt",
    "kunne",
    "når",
    "være",
    "vere",
    "kom",
    "noen",
    "nokon",
    "noe",
    "noko",
    "ville",
    "dere",
    "som",
    "deres",
    "kun",
    "ja",
    "etter",
    "ned",
    "skulle",
    "denne",
    "for",
    "deg",
    "si",
    "sine",
    "sitt",
    "mot",
    "å",
    "meget",
    "hvorfor",
    "kvifor",
    "dette",
    "disse",
    "desse",
    "uten",
    "utan",
    "hvordan",
    "korleis",
    "ingen",
    "din",
    "ditt",
    "blir",
    "samme",
    "same",
    "hvilken",
    "hvilke",
    "sånn",
    "inni",
    "mellom",
    "vår",
    "hver",
    "kvar",
    "hvem",
    "kven",
    "vors",
    "dykk",
    "også",
    "og",
    "får",
    "fått",
    "få",
    "fikk",
    "gjør",
    "gjer",
    "gjøre",
    "gjere",
    "mer",
    "meir",
    "bare",
    "berre",
    "litt",
    "veldig",
    "hei",
    "hallo",
    "takk",
    "mvh",
    "hilsen",
    "helsing",
    "vennlig",
    "venleg",
    "feil",
    "feilen",
    "problem",
    "problemet",
    "problemer",
    "sak",
    "saken",
    "hjelp",
    "dag",
    "idag",
    "i dag",
    "morges",
    "the",
    "a",
    "an",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "is",
    "are",
    "was",
    "we",
    "i",
    "it",
    "this",
    "that",
    "not",
    "no",
    "can",
    "cannot",
    "can't",
    "our",
    "my",
    "me",
    "you",
    "have",
    "has",
    "be",
    "been",
    "from",
    "at",
    "as",
    "by",
    "but",
    "if",
    "so",
    "do",
    "does",
    "hi",
    "hello",
    "thanks",
    "thank",
    "regards",
    "best",
    "kind",
    "please",
    "error",
    "issue",
    "problem",
    "today",
    "vedlagt",
    "skjermbilde",
    "skjermdump",
    "screenshot",
    "attached",
    "tlf",
    "mobil",
    "telefon",
    "phone",
    "mobile",
    "e-post",
    "epost",
    "kommune",
    "kommunen",
];

/// Lines from which on the rest is a signature.
const SIGN_OFFS: &[&str] = &[
    "mvh",
    "med vennlig hilsen",
    "vennlig hilsen",
    "med venleg helsing",
    "venleg helsing",
    "hilsen",
    "helsing",
    "best regards",
    "kind regards",
    "regards",
    "--",
    "sendt fra",
    "sent from",
];

/// The weight of a 4-gram against a whole word's 1.
const GRAM_WEIGHT: f64 = 0.25;

/// Words that mark a contact line in a signature.
const CONTACT_LINE: &[&str] = &["tlf", "telefon", "mobil", "mob", "phone", "mobile", "tel", "sentralbord"];

/// Endings taken off a word (longest first) when at least four letters remain.
const ENDINGS: &[&str] = &[
    "ingene", "ingane", "ingen", "inga", "ende", "ene", "ane", "ing", "het", "ers", "er", "en", "et", "ar", "es", "ed",
    "a", "e", "s",
];

/// Sparse weighted features (before IDF weighting).
pub type Features = HashMap<String, f64>;

/// The text of a report that says what the fault is: the subject and the own text up to the
/// signature.
pub fn report_text(subject: &str, own_text: &str) -> String {
    let mut text = String::with_capacity(subject.len() + own_text.len().min(4000));
    text.push_str(subject);
    text.push('\n');
    for line in own_text.lines().take(80) {
        let l = line.trim().to_lowercase();
        if SIGN_OFFS.iter().any(|s| {
            l.strip_prefix(s)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(',') || rest.starts_with(' ') && l.len() < 40)
        }) {
            break;
        }
        // Short lines without a sentence's punctuation are names, titles and addresses, not the
        // fault; contact lines carry phone numbers.
        if l.split_whitespace().count() <= 4 && !l.ends_with(['.', '?', '!', ':'])
            || CONTACT_LINE.iter().any(|k| l.split(|c: char| !c.is_alphanumeric()).any(|w| w == *k))
        {
            continue;
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

pub(crate) fn stem(word: &str) -> &str {
    for e in ENDINGS {
        if let Some(s) = word.strip_suffix(e)
            && s.chars().count() >= 4
        {
            return s;
        }
    }
    word
}

/// A report's text read once, for the grouping and the trained classifier alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Word stems (weight 1 each occurrence, subject words counted twice) and their 4-grams
    /// (weight 0.25): what the grouping compares.
    pub words: Features,
    /// What the classifier weighs beside the words: each pair of neighbouring words (`sendt ~til`,
    /// weight 1), each pair one word apart (`sendt _ ~feil`, 0.5), and the function words the
    /// grouping leaves out (`~feil`, 1), marked as such wherever they stand — "sent to the
    /// wrong", "lå åpent" and "ikke min" say a breach where each word alone does not. Subject
    /// lines count twice here too.
    pub phrases: Features,
}

/// The weight of a pair one word apart against a neighbouring pair's 1.
const SKIP_WEIGHT: f64 = 0.5;

/// A stop word's feature name (never a stem: a stem has no `~`).
pub const STOP_MARK: char = '~';

/// Reads `text` whose first line is the subject: see [`Reading`].
pub fn read(text: &str) -> Reading {
    read_text(text, true)
}

/// The words always; the phrases when `phrases` (the grouping alone needs none).
fn read_text(text: &str, phrases: bool) -> Reading {
    let mut r = Reading::default();
    for (i, line) in text.lines().enumerate() {
        let weight = if i == 0 { 2.0 } else { 1.0 };
        let (mut last, mut before_last): (Option<String>, Option<String>) = (None, None);
        for raw in line.split(|c: char| !c.is_alphanumeric()) {
            let word = raw.to_lowercase();
            if word.chars().count() < 2 {
                continue;
            }
            let digits = word.chars().all(|c| c.is_ascii_digit());
            let stop = STOP.contains(&word.as_str());
            let stem = stem(&word).to_string();
            // Numbers of three or more digits stay: error codes (503) and wage types (1120) say a lot.
            let short_number = digits && word.len() < 3;
            if !stop && !short_number {
                let chars: Vec<char> = std::iter::once('_').chain(stem.chars()).chain(std::iter::once('_')).collect();
                for g in chars.windows(4) {
                    let mut gram = String::with_capacity(1 + 4 * 4);
                    gram.push('#');
                    gram.extend(g);
                    *r.words.entry(gram).or_default() += GRAM_WEIGHT * weight;
                }
                *r.words.entry(stem.clone()).or_default() += weight;
            }
            // Phrases are of words, not numbers: an amount or a case number is no wording.
            if !phrases || digits {
                continue;
            }
            // A function word is marked wherever it stands, so a model can leave it out.
            let term = if stop { joined(&[STOP_MARK.encode_utf8(&mut [0; 4]), &stem]) } else { stem };
            if stop {
                *r.phrases.entry(term.clone()).or_default() += weight;
            }
            if let Some(b) = &before_last {
                *r.phrases.entry(joined(&[b, " _ ", &term])).or_default() += SKIP_WEIGHT * weight;
            }
            if let Some(a) = last.take() {
                *r.phrases.entry(joined(&[&a, " ", &term])).or_default() += weight;
                before_last = Some(a);
            }
            last = Some(term);
        }
    }
    r
}

/// `parts` as one string (without `format!`'s machinery: this runs for every word of every report).
fn joined(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    parts.iter().for_each(|p| s.push_str(p));
    s
}

/// The grouping's features of `text` (see [`Reading::words`]).
pub fn features(text: &str) -> Features {
    read_text(text, false).words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_holds_the_words_and_the_phrases_between_them() {
        let r = read("Lønnsslipper sendt\nDe ble sendt til feil person i 2024.");
        // Words: stems without function words or short numbers, subject twice; 4-grams beside them.
        assert_eq!(r.words.get("lønnsslipp"), Some(&2.0));
        assert_eq!(r.words.get("sendt"), Some(&3.0));
        assert!(r.words.contains_key("person") && r.words.contains_key("2024") && !r.words.contains_key("feil"));
        assert_eq!(r.words.get("#_sen"), Some(&(GRAM_WEIGHT * 3.0)));
        // Phrases: neighbours and pairs one word apart, function words among them; no numbers.
        assert_eq!(r.phrases.get("lønnsslipp sendt"), Some(&2.0));
        assert_eq!(r.phrases.get("~til ~feil"), Some(&1.0));
        assert_eq!(r.phrases.get("sendt _ ~feil"), Some(&SKIP_WEIGHT));
        assert_eq!(r.phrases.get("feil person"), None);
        assert_eq!(r.phrases.get("~feil person"), Some(&1.0));
        assert_eq!(r.phrases.get("~feil"), Some(&1.0));
        assert!(r.phrases.keys().all(|k| !k.contains("2024")), "{:?}", r.phrases);
        // Phrases do not run from one line into the next.
        assert!(!r.phrases.contains_key("sendt ~de"), "{:?}", r.phrases);
        assert_eq!(features("Lønnsslipper sendt\nDe ble sendt til feil person i 2024."), r.words);
    }
}
