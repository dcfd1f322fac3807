//! Norwegian phone and mobile numbers in free text: "61 18 98 50", "611 89 850", "+47 61 18 98 50",
//! "0047 61189850", "Mobil: 41 47 91 44". Candidates are found by shape and then validated against
//! libphonenumber's metadata (the `phonenumber` crate); dates, amounts, account and organisation
//! numbers are rejected by their shape.

use phonenumber::{Type, country, metadata::DATABASE};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Landline or direct number.
    Phone,
    Mobile,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Number {
    pub kind: Kind,
    /// As written in the mail.
    pub written: String,
    /// E.164, e.g. `+4761189850`.
    pub e164: String,
}

/// Every valid Norwegian number in `text`, in order of appearance.
pub fn find_numbers(text: &str) -> Vec<Number> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut zone_start = 0;
        for (start, end, digits) in candidates(line) {
            let label = label_in(&line[zone_start..start]);
            zone_start = end;
            let Some(valid) = validate(&digits) else {
                continue;
            };
            let kind = match (label, valid) {
                (Label::Mobile, _) => Kind::Mobile,
                (Label::Landline, _) => Kind::Phone,
                (Label::Generic | Label::None, k) => k,
            };
            out.push(Number { kind, written: line[start..end].trim().to_string(), e164: format!("+47{digits}") });
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    None,
    Generic,
    Mobile,
    Landline,
}

/// What the words before a number (back to the previous number on the line) call it.
fn label_in(before: &str) -> Label {
    let l = before.to_lowercase();
    if ["mob", "cell", "handy"].iter().any(|w| l.contains(w)) {
        Label::Mobile
    } else if ["dir", "sentralbord", "fast", "landline", "kontor", "office", "sentralbord", "jobb", "work"]
        .iter()
        .any(|w| l.contains(w))
    {
        Label::Landline
    } else if ["tlf", "telefon", "phone", "tel"].iter().any(|w| l.contains(w)) {
        Label::Generic
    } else {
        Label::None
    }
}

/// Validates 8 national digits; returns what libphonenumber says they are.
fn validate(digits: &str) -> Option<Kind> {
    let n = phonenumber::parse(Some(country::Id::NO), format!("+47{digits}")).ok()?;
    if !n.is_valid() {
        return None;
    }
    Some(match n.number_type(&DATABASE) {
        Type::Mobile => Kind::Mobile,
        _ => Kind::Phone,
    })
}

/// Candidate numbers in one line: `(start, end, national digits)` for runs of digit groups whose
/// national part has exactly 8 digits.
fn candidates(line: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let starts_number =
            c.is_ascii_digit() || c == '+' || (c == '(' && chars.get(i + 1).is_some_and(|(_, n)| *n == '+'));
        if !starts_number || !left_boundary_ok(&chars, i) {
            i += 1;
            continue;
        }
        let (end_idx, groups, seps, prefixed) = scan_run(&chars, i);
        let end = chars.get(end_idx).map_or(line.len(), |(b, _)| *b);
        if right_boundary_ok(&chars, end_idx) {
            let mut digits: String = groups.concat();
            if !prefixed && digits.len() == 12 && digits.starts_with("0047") {
                digits.drain(..4);
            } else if !prefixed
                && digits.len() == 10
                && digits.starts_with("47")
                && groups.len() > 1
                && groups[0] == "47"
            {
                digits.drain(..2);
            }
            if digits.len() == 8 && plausible_grouping(&groups, &seps, prefixed) {
                out.push((start, end, digits));
            }
        }
        i = end_idx.max(i + 1);
    }
    out
}

/// Scans `+47`/`0047`/`(+47)` and then digit groups separated by one space, dot or hyphen.
/// Returns (index after the run, national digit groups, separators, whether a +47 prefix was seen).
fn scan_run(chars: &[(usize, char)], mut i: usize) -> (usize, Vec<String>, Vec<char>, bool) {
    let mut prefixed = false;
    let rest: String = chars[i..chars.len().min(i + 6)].iter().map(|(_, c)| *c).collect();
    for p in ["(+47)", "+47", "0047"] {
        if rest.starts_with(p) {
            i += p.chars().count();
            prefixed = true;
            while chars.get(i).is_some_and(|(_, c)| is_space(*c) || *c == '-') {
                i += 1;
            }
            break;
        }
    }
    let mut groups = Vec::new();
    let mut seps = Vec::new();
    loop {
        let mut g = String::new();
        while let Some((_, c)) = chars.get(i).filter(|(_, c)| c.is_ascii_digit()) {
            g.push(*c);
            i += 1;
        }
        if g.is_empty() {
            break;
        }
        groups.push(g);
        match (chars.get(i), chars.get(i + 1)) {
            (Some((_, s)), Some((_, d))) if (is_space(*s) || *s == '.' || *s == '-') && d.is_ascii_digit() => {
                seps.push(*s);
                i += 1;
            }
            _ => break,
        }
    }
    // A trailing separator that did not lead to digits is not part of the number.
    (i, groups, seps, prefixed)
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\u{a0}' || c == '\u{202f}' || c == '\t'
}

fn left_boundary_ok(chars: &[(usize, char)], i: usize) -> bool {
    match i.checked_sub(1).map(|j| chars[j].1) {
        None => true,
        Some(p) if p.is_alphanumeric() => false,
        // "1503.12.34567" or "12,5" continuing from a number just before.
        Some(p) if ".,/-".contains(p) => !(i >= 2 && chars[i - 2].1.is_ascii_digit()),
        Some(_) => true,
    }
}

fn right_boundary_ok(chars: &[(usize, char)], i: usize) -> bool {
    match chars.get(i).map(|(_, c)| *c) {
        None => true,
        Some(c) if c.is_alphanumeric() => false,
        Some(c) if ".,/:".contains(c) => !chars.get(i + 1).is_some_and(|(_, d)| d.is_ascii_digit()),
        Some(_) => true,
    }
}

/// Shapes people use for phone numbers, and not the shapes of dates (23.11.2026, 2026-11-23).
fn plausible_grouping(groups: &[String], seps: &[char], prefixed: bool) -> bool {
    let lens: Vec<usize> = groups.iter().map(String::len).collect();
    let dotted = seps.iter().any(|s| *s == '.' || *s == '/');
    let date_like = matches!(lens.as_slice(), [1 | 2, 1 | 2, 4] | [4, 2, 2]) && (dotted || seps.contains(&'-'));
    let tiny_group = lens.iter().any(|l| *l < 2) && !(prefixed && lens.len() == 1);
    !date_like && !tiny_group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        find_numbers(text).into_iter().map(|n| (n.kind, n.e164)).collect()
    }

    #[test]
    fn common_norwegian_formats() {
        for (text, kind, e164) in [
            ("Tlf. 61 18 98 50", Kind::Phone, "+4761189850"),
            ("611 89 850", Kind::Phone, "+4761189850"),
            ("+47 61 18 98 50", Kind::Phone, "+4761189850"),
            ("0047 61189850", Kind::Phone, "+4761189850"),
            ("(+47) 61 18 98 50", Kind::Phone, "+4761189850"),
            ("61189850", Kind::Phone, "+4761189850"),
            ("61-18-98-50", Kind::Phone, "+4761189850"),
            ("Mob: 913 54 961", Kind::Mobile, "+4791354961"),
            ("41 47 91 44", Kind::Mobile, "+4741479144"),
            ("+4741479144", Kind::Mobile, "+4741479144"),
        ] {
            assert_eq!(kinds(text), [(kind, e164.to_string())], "{text}");
        }
    }

    #[test]
    fn labels_decide_where_the_number_alone_cannot() {
        let found = kinds("Dir. tlf. 61 18 98 23 – Mobil 913 54 961");
        assert_eq!(found, [(Kind::Phone, "+4761189823".into()), (Kind::Mobile, "+4791354961".into())]);
        assert_eq!(kinds("Direkte: 951 17 655")[0].0, Kind::Phone);
        assert_eq!(kinds("Mobil: 61 18 98 50")[0].0, Kind::Mobile);
        assert_eq!(kinds("Tlf: 951 17 655")[0].0, Kind::Mobile);
    }

    #[test]
    fn decoys_are_not_numbers() {
        for text in [
            "Dato 23.11.2026",
            "2026-11-23",
            "Konto 1503.12.34567",
            "Org.nr. 944 117 784",
            "Beløp kr 12 500,00",
            "Fakturanr 6118985012",
            "kl. 10:12",
            "ref 61189850X",
            "version 1.61189850",
            "12345678",
        ] {
            assert!(kinds(text).is_empty(), "{text:?} gave {:?}", kinds(text));
        }
    }
}
