//! A set of weighted terms matched in one pass over normalised text (Aho-Corasick), on word
//! boundaries. A term ending in `*` matches any word that starts with it, which is how Norwegian
//! compounds are caught (`lønn*` finds `lønnskjøringen`).

use aho_corasick::{AhoCorasick, MatchKind};

use super::{is_word_char, normalize};

/// One term as the policy wrote it, with what it counts toward.
#[derive(Debug, Clone)]
pub struct Term<T> {
    /// The term as written in the policy (for reasons shown to people).
    pub text: String,
    pub weight: f64,
    pub tag: T,
    prefix: bool,
}

/// Where a term matched in the text (byte offsets into the normalised text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub term: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub struct TermSet<T> {
    terms: Vec<Term<T>>,
    automaton: AhoCorasick,
}

/// Why a term could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TermError {
    #[error("term {0:?} is empty")]
    Empty(String),
    #[error("term {0:?} has weight {1}; weights must be positive numbers")]
    BadWeight(String, f64),
    #[error("term {0:?} may only have `*` at its end")]
    MisplacedWildcard(String),
    #[error("term {0:?} must start and end with a letter or digit")]
    NotAWord(String),
}

impl<T: Copy> TermSet<T> {
    /// Builds the set; `entries` are `(term as written, weight, tag)`.
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, f64, T)>) -> Result<Self, Vec<TermError>> {
        let mut terms = Vec::new();
        let mut errors = Vec::new();
        for (raw, weight, tag) in entries {
            let text = normalize(raw);
            let (body, prefix) = match text.strip_suffix('*') {
                Some(b) => (b.to_string(), true),
                None => (text.clone(), false),
            };
            if !(weight.is_finite() && weight > 0.0) {
                errors.push(TermError::BadWeight(raw.to_string(), weight));
            } else if body.is_empty() {
                errors.push(TermError::Empty(raw.to_string()));
            } else if body.contains('*') {
                errors.push(TermError::MisplacedWildcard(raw.to_string()));
            } else if !body.starts_with(is_word_char) || !body.ends_with(is_word_char) {
                errors.push(TermError::NotAWord(raw.to_string()));
            } else {
                terms.push(Term { text: body, weight, tag, prefix });
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(terms.iter().map(|t| t.text.as_str()))
            .map_err(|e| vec![TermError::Empty(e.to_string())])?;
        Ok(Self { terms, automaton })
    }

    pub fn term(&self, i: usize) -> &Term<T> {
        &self.terms[i]
    }

    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every match in `normalized` (output of [`normalize`]) that sits on word boundaries.
    pub fn find(&self, normalized: &str) -> Vec<Hit> {
        let bytes = normalized.as_bytes();
        self.automaton
            .find_overlapping_iter(normalized)
            .filter_map(|m| {
                let term = &self.terms[m.pattern().as_usize()];
                let before_ok = normalized[..m.start()].chars().next_back().is_none_or(|c| !is_word_char(c));
                let after_ok = term.prefix
                    || m.end() == bytes.len()
                    || normalized[m.end()..].chars().next().is_none_or(|c| !is_word_char(c));
                (before_ok && after_ok).then_some(Hit { term: m.pattern().as_usize(), start: m.start(), end: m.end() })
            })
            .collect()
    }

    /// The distinct terms found in `normalized`, each once, in the order of first appearance.
    pub fn distinct(&self, normalized: &str) -> Vec<usize> {
        let mut seen = vec![false; self.terms.len()];
        self.find(normalized)
            .into_iter()
            .filter_map(|h| (!std::mem::replace(&mut seen[h.term], true)).then_some(h.term))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(terms: &[&str]) -> TermSet<()> {
        TermSet::new(terms.iter().map(|t| (*t, 1.0, ()))).expect("valid terms")
    }

    fn found(s: &TermSet<()>, text: &str) -> Vec<String> {
        s.distinct(&normalize(text)).into_iter().map(|i| s.term(i).text.clone()).collect()
    }

    #[test]
    fn prefix_terms_match_compounds_exact_terms_whole_words() {
        let s = set(&["lønn*", "vpn", "feil beløp"]);
        assert_eq!(found(&s, "Lønnskjøringen gir FEIL\nbeløp"), ["lønn", "feil beløp"]);
        assert_eq!(found(&s, "vpn-tilkoblingen"), ["vpn"]);
        assert!(found(&s, "vpnx og ulønnet").is_empty());
    }

    #[test]
    fn each_term_counts_once() {
        let s = set(&["citrix"]);
        assert_eq!(found(&s, "Citrix, citrix og CITRIX"), ["citrix"]);
    }

    #[test]
    fn bad_terms_are_reported() {
        let errors = TermSet::new([("", 1.0, ()), ("a*b", 1.0, ()), ("x", -1.0, ()), ("*", 1.0, ())]).unwrap_err();
        assert_eq!(errors.len(), 4);
    }
}
