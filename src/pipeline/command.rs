//! What a ticket's contact asks of routedesk in a reply: the small, documented set of mail
//! commands. Read from the reply's own text (quoted mail and the routing mail's instructions left
//! out) and its subject; whether the sender may give them is the application layer's to decide.
//!
//! - the vendor's case number, as the policy's `[vendor] case_pattern` finds it ("Visma-sak 12345678");
//! - a line that says only "åpen for alle" / "open for all": the case is reported open for all in
//!   the region;
//! - a line that says only "løst" / "løyst" / "resolved": the vendor case is solved, the reporter is told;
//! - a line beginning "mer info:" / "more info:" followed by a question: it goes to the reporter.

use crate::policy::Vendor;

/// One command of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    CaseNumber(String),
    OpenToRegion,
    /// A question for the reporter (at most [`MAX_QUESTION`] characters).
    MoreInfo(String),
    Resolved,
}

/// A question longer than this is cut: it is mail to a person, not a document.
pub const MAX_QUESTION: usize = 4000;

const RESOLVED: &[&str] = &["løst", "løyst", "resolved", "solved"];
const OPEN: &[&str] = &["åpen for alle", "open for all", "open for all in the region", "åpen for alle i regionen"];
const MORE_INFO: &[&str] = &["mer info", "trenger mer info", "more info", "needs more info", "need more info"];

/// The commands of a reply, in the order they take effect: the case number first, resolution last.
pub fn read(subject: &str, own_text: &str, vendor: &Vendor) -> Vec<Command> {
    let mut out = Vec::new();
    let case = case_number(subject, vendor).or_else(|| case_number(own_text, vendor));
    if let Some(n) = case {
        out.push(Command::CaseNumber(n));
    }
    let lines: Vec<&str> = own_text.lines().collect();
    // A line is a command when it holds nothing else (a case number and punctuation aside), so
    // "ikke løst ennå" or a sentence about the region is never one.
    let bare = |line: &str| -> String {
        let line = vendor.case_pattern.replace_all(line, " ");
        // Quotation marks too: the routing mail shows the commands as «løst».
        let line =
            line.trim().trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace() || "«»“”„".contains(c));
        line.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
    };
    if lines.iter().any(|l| OPEN.contains(&bare(l).as_str())) {
        out.push(Command::OpenToRegion);
    }
    if let Some(q) = question(&lines) {
        out.push(Command::MoreInfo(q));
    }
    if lines.iter().any(|l| RESOLVED.contains(&bare(l).as_str())) {
        out.push(Command::Resolved);
    }
    out
}

/// The vendor's case number in `text`: the pattern's first group.
pub fn case_number(text: &str, vendor: &Vendor) -> Option<String> {
    let caps = vendor.case_pattern.captures(text)?;
    caps.get(1).map(|m| m.as_str().to_string()).filter(|n| !n.is_empty())
}

/// A staff member's entry in the web view: a bare number, or anything the pattern finds one in.
pub fn case_number_entered(text: &str, vendor: &Vendor) -> Option<String> {
    let t = text.trim();
    let bare = !t.is_empty() && t.len() <= 40 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if bare { Some(t.to_string()) } else { case_number(t, vendor) }
}

/// "mer info: …": the rest of that line and the lines after it.
fn question(lines: &[&str]) -> Option<String> {
    let (at, rest) = lines.iter().enumerate().find_map(|(i, line)| {
        let (head, rest) = line.trim().split_once(':')?;
        let head = head.trim().trim_start_matches(['«', '"', '“']).to_lowercase();
        MORE_INFO.contains(&head.as_str()).then_some((i, rest.trim_start_matches(['»', '"', '”'])))
    })?;
    let q = std::iter::once(rest).chain(lines[at + 1..].iter().copied()).collect::<Vec<_>>().join("\n");
    let q = crate::text::prefix(q.trim(), MAX_QUESTION);
    (!q.is_empty()).then(|| q.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn vendor() -> Vendor {
        Policy::default_region().expect("default policy").vendor
    }

    fn read_text(text: &str) -> Vec<Command> {
        read("SV: [RD-2026-000123] Lønnskjøringen stopper", text, &vendor())
    }

    #[test]
    fn finds_the_case_number_as_administrators_write_it() {
        for (text, n) in [
            ("Meldt til Visma, Visma-sak 12345678.", "12345678"),
            ("visma sak nr. 23456789", "23456789"),
            ("Vismasak: 34567890", "34567890"),
            ("Reported: Visma case #4567890", "4567890"),
            ("Visma-saksnummer 567890", "567890"),
        ] {
            assert_eq!(read_text(text), vec![Command::CaseNumber(n.into())], "{text}");
        }
        assert_eq!(
            read("SV: Visma-sak 11223344", "Se emnet.", &vendor()),
            vec![Command::CaseNumber("11223344".into())]
        );
    }

    #[test]
    fn a_number_that_is_not_a_vendor_case_is_not_one() {
        for text in
            ["Ring meg på 61 18 97 26", "Visma-sak 123", "Saken RD-2026-000123 gjelder lønn", "vismasaker 12345678"]
        {
            assert_eq!(read_text(text), vec![], "{text}");
        }
    }

    #[test]
    fn resolved_and_open_for_all_only_as_lines_of_their_own() {
        assert_eq!(read_text("Løst."), vec![Command::Resolved]);
        assert_eq!(read_text("Hei\n\nløyst\n\nHilsen Kari"), vec![Command::Resolved]);
        assert_eq!(
            read_text("Visma-sak 12345678: løst"),
            vec![Command::CaseNumber("12345678".into()), Command::Resolved]
        );
        assert_eq!(read_text("Åpen for alle!"), vec![Command::OpenToRegion]);
        assert_eq!(read_text("«løst»"), vec![Command::Resolved], "as the routing mail writes it");
        for text in ["Dette er ikke løst ennå", "Er det løst?", "Saken er åpen for alle som vil se den i morgen"] {
            assert_eq!(read_text(text), vec![], "{text}");
        }
    }

    #[test]
    fn a_question_for_the_reporter_is_the_rest_of_the_text() {
        let got = read_text("Mer info: Hvilken lønnsart gjelder det?\nOg hvilken periode?\n\nHilsen Tor");
        assert_eq!(
            got,
            vec![Command::MoreInfo("Hvilken lønnsart gjelder det?\nOg hvilken periode?\n\nHilsen Tor".into())]
        );
        assert_eq!(read_text("more info:"), vec![], "a command without a question is none");
        assert_eq!(read_text("«mer info:» Hvilken periode?"), vec![Command::MoreInfo("Hvilken periode?".into())]);
        let long = format!("more info: {}", "æ".repeat(MAX_QUESTION));
        let Some(Command::MoreInfo(q)) = read_text(&long).pop() else { panic!("a question") };
        assert!(q.len() <= MAX_QUESTION);
    }

    #[test]
    fn a_number_entered_by_staff() {
        assert_eq!(case_number_entered(" 12345678 ", &vendor()).as_deref(), Some("12345678"));
        assert_eq!(case_number_entered("CS-2026-77", &vendor()).as_deref(), Some("CS-2026-77"));
        assert_eq!(case_number_entered("Visma-sak 12345678", &vendor()).as_deref(), Some("12345678"));
        assert_eq!(case_number_entered("<script>", &vendor()), None);
        assert_eq!(case_number_entered("", &vendor()), None);
    }
}
