//! Ticket numbers, `RD-2026-000123`: the year the ticket was opened and its place in that year.
//! Written in subjects as a tag, `[RD-2026-000123]`, by which replies find their ticket.

/// The number of the `seq`th ticket of `year`.
pub fn format(year: i32, seq: i64) -> String {
    format!("RD-{year}-{seq:06}")
}

/// The number in a subject's tag, such as `SV: [RD-2026-000123] Mangler opplysninger: …`.
pub fn tag_in(subject: &str) -> Option<String> {
    let bytes = subject.as_bytes();
    subject.match_indices("[RD-").find_map(|(i, _)| {
        let tag = bytes.get(i + 1..i + 15)?;
        let ok = tag[3..7].iter().all(u8::is_ascii_digit)
            && tag[7] == b'-'
            && tag[8..14].iter().all(u8::is_ascii_digit)
            && bytes.get(i + 15) == Some(&b']');
        ok.then(|| String::from_utf8_lossy(tag).into_owned())
    })
}

/// The first ticket number anywhere in a text, tag or not (a year beyond 999,999 tickets keeps
/// its longer number whole).
pub fn first_in(text: &str) -> Option<String> {
    text.match_indices("RD-").find_map(|(i, _)| {
        let rest = &text[i + 3..];
        let year = rest.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit()))?;
        let digits = rest.get(5..)?.bytes().take_while(u8::is_ascii_digit).count();
        (rest.as_bytes().get(4) == Some(&b'-') && digits >= 6).then(|| format!("RD-{year}-{}", &rest[5..5 + digits]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_tag_in_reply_subjects() {
        assert_eq!(tag_in("SV: [RD-2026-000123] Mangler opplysninger").as_deref(), Some("RD-2026-000123"));
        assert_eq!(tag_in("[RD-2026-12] x"), None);
        assert_eq!(tag_in("[RD-20x6-000123]"), None);
        assert_eq!(tag_in("Re: [RD-2026-000001]").as_deref(), Some("RD-2026-000001"));
        assert_eq!(tag_in("æøå [RD-2026-000001"), None);
    }

    #[test]
    fn numbers_are_written_and_found_whole() {
        assert_eq!(format(2026, 123), "RD-2026-000123");
        assert_eq!(format(2026, 1_234_567), "RD-2026-1234567");
        assert_eq!(first_in("se RD-2026-1234567 og RD-2026-000001").as_deref(), Some("RD-2026-1234567"));
        assert_eq!(first_in("mentions RD-2026-000123 (the sender …)").as_deref(), Some("RD-2026-000123"));
        assert_eq!(first_in("RD-20x6-000123, RD-2026-12"), None);
    }
}
