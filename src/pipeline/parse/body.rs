//! The text of a message: text/plain parts as they are, HTML converted to readable text.

use super::charset;
use mail_parser::{Message, MessagePart, PartType};

/// HTML beyond this is not converted (the rest of the report is still kept raw); a mail's own text is
/// never this long, and converting megabytes of markup would cost more than it tells.
const MAX_HTML_TO_CONVERT: usize = 2 * 1024 * 1024;
/// Wide enough that html2text never wraps a line and so never splits a phone number.
const TEXT_WIDTH: usize = 10_000;

/// The body as text, and the first HTML body as sent (if any); `raw` is the message `msg` was
/// parsed from.
pub fn text_and_html(msg: &Message<'_>, raw: &[u8], problems: &mut Vec<String>) -> (String, Option<String>) {
    let html = msg.html_bodies().find_map(|p| match &p.body {
        PartType::Html(h) => Some(decoded(p, h, raw)),
        _ => None,
    });
    let mut text = String::new();
    for part in msg.text_bodies() {
        if part.is_encoding_problem {
            problems.push("a text part could not be decoded cleanly (unknown charset or broken encoding)".into());
        }
        let piece = match &part.body {
            PartType::Text(t) => decoded(part, t, raw),
            PartType::Html(h) => html_to_text(&decoded(part, h, raw), problems),
            _ => continue,
        };
        if !text.is_empty() && !piece.is_empty() {
            text.push('\n');
        }
        text.push_str(&piece);
    }
    (text.replace("\r\n", "\n").replace('\0', ""), html)
}

/// A text part's text, read again where mail-parser could not decode it (see `charset`).
fn decoded(part: &MessagePart<'_>, text: &str, raw: &[u8]) -> String {
    charset::reread_part(part, text, raw).unwrap_or_else(|| text.to_string())
}

/// Readable text from HTML by a real HTML parser (html2text): entities decoded, scripts and styles
/// dropped, table cells (Outlook signatures) kept on their own lines.
pub fn html_to_text(html: &str, problems: &mut Vec<String>) -> String {
    let html = if html.len() > MAX_HTML_TO_CONVERT {
        problems.push(format!(
            "HTML body of {} bytes: only the first {MAX_HTML_TO_CONVERT} were converted to text",
            html.len()
        ));
        crate::text::prefix(html, MAX_HTML_TO_CONVERT)
    } else {
        html
    };
    match html2text::config::plain_no_decorate().raw_mode(true).string_from_read(html.as_bytes(), TEXT_WIDTH) {
        Ok(text) => text,
        Err(e) => {
            problems.push(format!("HTML body could not be converted to text: {e}"));
            String::new()
        }
    }
}
