//! Which part of a body the sender wrote. Contact details and fault words in text they merely quoted
//! (an earlier mail under "-----Opprinnelig melding-----", "> " lines, "Den … skrev:") are not theirs;
//! forwarded content is, because forwarding a colleague's report is how reports reach the helpdesk.

/// The body without quoted reply text.
pub fn own_text(text: &str, subject: &str) -> String {
    // Once a forward begins, the forwarded mail's own header block is content, not a quote.
    let mut forwarding = is_forward_subject(subject);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if is_forward_marker(t) {
            forwarding = true;
        } else if !forwarding && is_reply_marker(t, &lines[i + 1..]) {
            break;
        }
        if t.starts_with('>') || (t.len() >= 10 && t.chars().all(|c| c == '_')) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `VS:`, `Fw:`, `Fwd:` (Norwegian and English clients) as the first subject prefix.
fn is_forward_subject(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    ["vs:", "fw:", "fwd:", "vb:", "wg:", "tr:"].iter().any(|p| lower.starts_with(p))
}

fn is_forward_marker(line: &str) -> bool {
    let l = line.to_lowercase();
    ["forwarded message", "videresendt melding", "vidaresendt melding", "begin forwarded message", "videresendt e-post"]
        .iter()
        .any(|m| l.contains(m))
}

/// The start of quoted reply text: a separator, an attribution line, or an Outlook header block.
fn is_reply_marker(line: &str, rest: &[&str]) -> bool {
    let l = line.to_lowercase();
    if [
        "-----original message-----",
        "-----opprinnelig melding-----",
        "-----opprinneleg melding-----",
        "-----ursprüngliche nachricht-----",
    ]
    .iter()
    .any(|m| l.contains(m))
    {
        return true;
    }
    if is_attribution(&l, rest.first().map(|s| s.trim())) {
        return true;
    }
    // Outlook puts the quoted mail's headers under the reply: "Fra: …", then "Sendt: …" / "Til: …".
    let header_start = ["from:", "fra:", "frå:"].iter().any(|p| l.starts_with(p));
    header_start
        && rest.iter().map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()).take(4).any(|s| {
            ["sent:", "sendt:", "date:", "dato:", "to:", "til:", "emne:", "subject:"].iter().any(|p| s.starts_with(p))
        })
}

/// "On Mon, 23 Nov 2026, Kari wrote:", "Den 23. nov. 2026 kl. 10:12 skrev Kari <kari@…>:" — which
/// clients sometimes wrap onto a second line.
fn is_attribution(lower: &str, next: Option<&str>) -> bool {
    if lower.len() > 300 {
        return false;
    }
    let verb = [" wrote", " skrev", " skreiv", " schrieb"].iter().any(|v| lower.contains(v));
    let opener = ["on ", "den ", "am ", "man. ", "tir. ", "ons. ", "tor. ", "fre. ", "lør. ", "søn. "]
        .iter()
        .any(|o| lower.starts_with(o))
        || lower.contains(" skrev ")
        || lower.contains(" wrote");
    verb && opener && (lower.ends_with(':') || next.is_some_and(|n| n.len() < 120 && n.ends_with(':')))
}

#[cfg(test)]
mod tests {
    use super::own_text;

    #[test]
    fn drops_quoted_lines_and_everything_under_an_outlook_header_block() {
        let body = "Her er skjermdumpen.\n\nMvh Kari\n\nFra: Helpdesk <pureservice@gjovik.kommune.no>\nSendt: 23. november 2026 10:00\nTil: Kari\nEmne: [RD-2026-000001]\n\nMobil: 951 17 655\n";
        let own = own_text(body, "SV: [RD-2026-000001] Feil i lønn");
        assert!(own.contains("skjermdumpen"));
        assert!(!own.contains("951 17 655"));
    }

    #[test]
    fn drops_attributed_quotes() {
        let body = "Takk!\n\nDen tir. 23. nov. 2026 kl. 10:12 skrev Helpdesk <\npureservice@gjovik.kommune.no>:\n> Mobil: 951 17 655\n";
        assert_eq!(own_text(body, "Re: feil"), "Takk!\n\n");
        let body = "Thanks\nOn Mon, 23 Nov 2026 at 10:12, Kari <k@x.no> wrote:\n> Tlf 61 18 98 50\n";
        assert_eq!(own_text(body, "Re: feil"), "Thanks\n");
    }

    #[test]
    fn keeps_forwarded_content() {
        let body = "Se under.\n\n-----Opprinnelig melding-----\nFra: Ola\nSendt: i dag\nTil: meg\n\nTlf 61 18 98 50\n";
        assert!(own_text(body, "VS: Feil i faktura").contains("61 18 98 50"));
        let body = "FYI\n---------- Forwarded message ---------\nFrom: Ola <o@x.no>\nDate: Mon\n\nMobil 913 54 961\n";
        assert!(own_text(body, "Fwd: feil").contains("913 54 961"));
    }

    #[test]
    fn drops_greater_than_lines_anywhere() {
        assert_eq!(own_text("a\n> b\n  > c\nd\n", "x"), "a\nd\n");
    }
}
