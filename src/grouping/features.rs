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
        if SIGN_OFFS
            .iter()
            .any(|s| l == *s || l.starts_with(&format!("{s},")) || l.starts_with(&format!("{s} ")) && l.len() < 40)
        {
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

/// Word stems (weight 1 each occurrence, subject words counted twice) and their 4-grams (weight
/// 0.25), from `text` whose first line is the subject.
pub fn features(text: &str) -> Features {
    let mut f = Features::new();
    for (i, line) in text.lines().enumerate() {
        let weight = if i == 0 { 2.0 } else { 1.0 };
        for raw in line.split(|c: char| !c.is_alphanumeric()) {
            let word = raw.to_lowercase();
            // Numbers of three or more digits stay: error codes (503) and wage types (1120) say a lot.
            let short_number = word.len() < 3 && word.chars().all(|c| c.is_ascii_digit());
            if word.chars().count() < 2 || short_number || STOP.contains(&word.as_str()) {
                continue;
            }
            let stem = stem(&word).to_string();
            let chars: Vec<char> = format!("_{stem}_").chars().collect();
            for g in chars.windows(4) {
                *f.entry(format!("#{}", g.iter().collect::<String>())).or_default() += GRAM_WEIGHT * weight;
            }
            *f.entry(stem).or_default() += weight;
        }
    }
    f
}
