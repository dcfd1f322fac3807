//! Where a sender's signature starts: titles and department names there ("Lønnskonsulent",
//! "IT-avdelingen") describe the person, not the fault.

/// The text before the signature (all of it when no sign-off is found).
pub fn strip(text: &str) -> &str {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim().to_lowercase();
        let l = l.trim_end_matches([',', '!', '.']);
        if l == "--" || SIGN_OFFS.contains(&l) {
            return &text[..offset];
        }
        offset += line.len();
    }
    text
}

const SIGN_OFFS: &[&str] = &[
    "mvh",
    "m.v.h",
    "med vennlig hilsen",
    "med venleg helsing",
    "vennlig hilsen",
    "venleg helsing",
    "hilsen",
    "helsing",
    "beste hilsen",
    "hilsen fra",
    "best regards",
    "kind regards",
    "regards",
    "sincerely",
    "thanks",
    "takk",
];

#[cfg(test)]
mod tests {
    use super::strip;

    #[test]
    fn cuts_at_the_sign_off() {
        assert_eq!(strip("Skriveren virker ikke.\n\nMvh\nKari\nLønnskonsulent\n"), "Skriveren virker ikke.\n\n");
        assert_eq!(strip("Hei\n-- \nOla\n"), "Hei\n");
        assert_eq!(strip("Ingen hilsen her"), "Ingen hilsen her");
    }
}
