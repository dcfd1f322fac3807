//! Text utilities shared by the pipeline steps: normalising text for matching, and weighted term sets.

pub mod address;
pub mod lang;
pub mod stored;
pub mod terms;
pub mod time;

/// The longest start of `s` of at most `max` bytes that ends between two characters.
pub fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut at = max;
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    &s[..at]
}

/// `s` cut to at most `max` bytes, between two characters.
pub fn cut(mut s: String, max: usize) -> String {
    let keep = prefix(&s, max).len();
    s.truncate(keep);
    s
}

/// Lower-cases `s` and folds every run of whitespace (line breaks, no-break spaces) into one space,
/// so that phrases match across line breaks and case does not matter.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A character that belongs to a word (term matches must start and end at word boundaries).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_between_characters_never_inside_one() {
        assert_eq!(prefix("blåbær", 3), "bl", "å is two bytes: not split");
        assert_eq!(prefix("blåbær", 4), "blå");
        assert_eq!(prefix("kort", 10), "kort");
        assert_eq!(cut("lønnsslipp".to_string(), 2), "l");
    }

    #[test]
    fn normalize_folds_case_and_whitespace() {
        assert_eq!(normalize("  Lønn\r\n  FEIL\u{a0}i\tÅret "), "lønn feil i året");
    }
}
