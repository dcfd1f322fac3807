//! Second reading of text mail-parser could only decode with U+FFFD. Two cases are common in real
//! mail: a text part whose charset is missing, unknown or wrong (`ansi_x3.110-1983`, GB2312 bytes
//! with no label at all, windows-1252 labelled UTF-8), read by mail-parser as UTF-8; and a subject whose encoder split one character
//! across two encoded words, which RFC 2047 forbids but some large providers do. The first is read
//! again with the charset a browser would detect (chardetng); the second with the bytes of adjacent
//! encoded words of one charset joined before they are decoded. A second reading replaces the first
//! only when it has fewer U+FFFD.

use mail_parser::decoders::{
    base64::base64_decode, charsets::map::charset_decoder, quoted_printable::quoted_printable_decode,
};
use mail_parser::{MessagePart, MimeHeaders};

const REPLACEMENT: char = '\u{FFFD}';

fn replacements(s: &str) -> usize {
    s.chars().filter(|&c| c == REPLACEMENT).count()
}

/// `again` if it reads better than `first`.
fn better(first: &str, again: String) -> Option<String> {
    (replacements(&again) < replacements(first)).then_some(again)
}

/// A text part's text read again from its raw bytes (`raw` is the message the part's offsets point
/// into), when mail-parser's reading has U+FFFD. The label is not trusted then: it is missing,
/// unknown, or wrong (windows-1252 bytes labelled UTF-8 are common).
pub fn reread_part(part: &MessagePart<'_>, first: &str, raw: &[u8]) -> Option<String> {
    if !first.contains(REPLACEMENT) {
        return None;
    }
    let body = raw.get(part.raw_body_offset() as usize..part.raw_end_offset() as usize)?;
    let bytes = match part.content_transfer_encoding().map(str::to_ascii_lowercase).as_deref() {
        Some("base64") => base64_decode(body)?,
        Some("quoted-printable") => quoted_printable_decode(body)?,
        _ => body.to_vec(),
    };
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Allow);
    detector.feed(&bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    let (text, _, _) = encoding.decode(&bytes);
    better(first, text.into_owned())
}

/// A header's text read again from its raw value, with adjacent encoded words of one charset
/// decoded as one (`first` is mail-parser's reading).
pub fn reread_header(raw_value: &str, first: &str) -> Option<String> {
    if !first.contains(REPLACEMENT) {
        return None;
    }
    better(first, decode_words(raw_value))
}

/// One RFC 2047 encoded word: `=?charset[*lang]?B|Q?text?=`.
struct Word<'a> {
    charset: &'a str,
    bytes: Vec<u8>,
}

/// The next encoded word in `s`: the text before it, the word, and the rest.
fn next_word(s: &str) -> Option<(&str, Word<'_>, &str)> {
    let mut from = 0;
    while let Some(at) = s[from..].find("=?").map(|i| i + from) {
        if let Some((word, len)) = word_at(&s[at + 2..]) {
            return Some((&s[..at], word, &s[at + 2 + len..]));
        }
        from = at + 2;
    }
    None
}

/// The word whose `=?` came just before `s`, and the length of the rest of it in `s`.
fn word_at(s: &str) -> Option<(Word<'_>, usize)> {
    let (charset, rest) = s.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let (text, _) = rest.split_once("?=")?;
    if charset.is_empty() || charset.contains(char::is_whitespace) || text.contains(char::is_whitespace) {
        return None;
    }
    let charset = charset.split('*').next().unwrap_or(charset);
    let bytes = match encoding {
        "B" | "b" => base64_decode(text.as_bytes())?,
        "Q" | "q" => quoted_printable_decode(text.replace('_', " ").as_bytes())?,
        _ => return None,
    };
    let len = s.len() - rest.len() + text.len() + 2;
    Some((Word { charset, bytes }, len))
}

fn decode_bytes(charset: &str, bytes: &[u8]) -> String {
    match charset_decoder(charset.as_bytes()) {
        Some(decode) => decode(bytes),
        None => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// A header value with its encoded words decoded; the whitespace between two encoded words is
/// dropped (RFC 2047 6.2), and the bytes of a run of words in one charset are decoded together.
fn decode_words(value: &str) -> String {
    let value: String = value.chars().filter(|&c| c != '\r' && c != '\n').collect();
    let mut out = String::new();
    let mut run: Option<(&str, Vec<u8>)> = None;
    let mut rest = value.as_str();
    while let Some((before, word, after)) = next_word(rest) {
        let adjacent = run.is_some() && before.trim().is_empty();
        match &mut run {
            Some((charset, bytes)) if adjacent && charset.eq_ignore_ascii_case(word.charset) => {
                bytes.extend_from_slice(&word.bytes);
            }
            _ => {
                if let Some((charset, bytes)) = run.take() {
                    out.push_str(&decode_bytes(charset, &bytes));
                }
                if !adjacent {
                    out.push_str(before);
                }
                run = Some((word.charset, word.bytes));
            }
        }
        rest = after;
    }
    if let Some((charset, bytes)) = run {
        out.push_str(&decode_bytes(charset, &bytes));
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::decode_words;

    #[test]
    fn a_character_split_across_two_words_is_read_whole() {
        // "ø" is C3 B8: the first word ends with C3, the second starts with B8.
        let value = "=?utf-8?b?TMO=?=\r\n =?utf-8?b?uG5u?= feiler";
        assert_eq!(decode_words(value), "Lønn feiler");
    }

    #[test]
    fn words_in_different_charsets_and_plain_text_keep_their_spaces() {
        let value = "Re: =?iso-8859-1?q?L=F8nn?= =?utf-8?q?_stopper?= i =?UTF-8?Q?Gj=C3=B8vik?=";
        assert_eq!(decode_words(value), "Re: Lønn stopper i Gjøvik");
    }

    #[test]
    fn what_only_looks_like_a_word_stays_as_written() {
        for value in ["=?", "=?utf-8?", "=?utf-8?x?abc?=", "a =? b ?= c", "=?utf-8?q?a b?="] {
            assert_eq!(decode_words(value), value);
        }
    }
}
