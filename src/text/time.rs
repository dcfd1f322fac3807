//! How times are written: for people (`2026-11-23 10:15`, UTC) and for machines (RFC 3339).

use time::OffsetDateTime;

/// `2026-11-23 10:15` in UTC: the log, the ticket page and the command line.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute())
}

/// RFC 3339 (`2026-11-23T10:15:00Z`): JSON exports, the API and the status feed.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn people_read_utc_minutes_and_machines_rfc3339() {
        let t = datetime!(2026-11-23 11:15:42 +01:00);
        assert_eq!(super::when(t), "2026-11-23 10:15");
        assert_eq!(super::rfc3339(t), "2026-11-23T11:15:42+01:00");
    }
}
