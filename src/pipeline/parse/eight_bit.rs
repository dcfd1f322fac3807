//! Raw 8-bit bytes in header fields, written by old mailers without RFC 2047 encoding. Such bytes
//! are UTF-8 or, in this region, almost always windows-1252 (a superset of Latin-1); mail-parser
//! reads them as UTF-8 and leaves U+FFFD where they are not. A header line that is not UTF-8 is
//! therefore read as windows-1252 and the message parsed again — bodies are left alone, as their
//! charset is declared.

use mail_parser::Message;

/// The message with every header line that is not UTF-8 turned into UTF-8 from windows-1252, or
/// `None` when every header line already is UTF-8.
pub fn transcode_headers(msg: &Message<'_>, raw: &[u8]) -> Option<Vec<u8>> {
    let mut blocks: Vec<(usize, usize)> = msg
        .parts
        .iter()
        .map(|p| (p.offset_header as usize, p.offset_body as usize))
        .filter(|&(start, end)| start < end && end <= raw.len())
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    if blocks.iter().all(|&(start, end)| std::str::from_utf8(&raw[start..end]).is_ok()) {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 8);
    let mut at = 0;
    for (start, end) in blocks {
        // Nested blocks (an attached message's parts) were handled with their outer block.
        if start < at {
            continue;
        }
        out.extend_from_slice(&raw[at..start]);
        for line in raw[start..end].split_inclusive(|&b| b == b'\n') {
            if std::str::from_utf8(line).is_ok() {
                out.extend_from_slice(line);
            } else {
                out.extend_from_slice(encoding_rs::WINDOWS_1252.decode_without_bom_handling(line).0.as_bytes());
            }
        }
        at = end;
    }
    out.extend_from_slice(&raw[at..]);
    Some(out)
}
