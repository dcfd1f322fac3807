//! The key that makes ingestion idempotent: the same mail fetched twice (a restart before the move,
//! a UIDVALIDITY change, a second delivery) maps to the same key; two different mails never do, even
//! with the same Message-ID (it can be missing, forged or legitimately repeated).

use sha2::{Digest, Sha256};

/// Trace headers a server adds on delivery; they differ between two deliveries of one mail.
const TRACE: &[&str] = &["received", "return-path", "delivered-to", "x-original-to", "x-delivered-to"];

/// `sha256:<hex>` over the mail without its leading trace headers.
pub fn key(raw: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(without_trace(raw));
    let digest = hasher.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Skips the trace header fields (with their continuation lines) at the top of the mail.
fn without_trace(raw: &[u8]) -> &[u8] {
    let mut pos = 0;
    let mut skipping = false;
    while pos < raw.len() {
        let end = raw[pos..].iter().position(|b| *b == b'\n').map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continuation && skipping {
            pos = end;
            continue;
        }
        let name = line.iter().position(|b| *b == b':').map(|i| &line[..i]);
        match name {
            Some(n) if TRACE.iter().any(|t| n.eq_ignore_ascii_case(t.as_bytes())) => {
                skipping = true;
                pos = end;
            }
            _ => break,
        }
    }
    &raw[pos..]
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn redelivery_has_the_same_key_and_other_content_does_not() {
        let a = b"Received: from a\r\n\tby b\r\nDelivered-To: x@y\r\nMessage-ID: <1@x>\r\nSubject: s\r\n\r\nbody\r\n";
        let b = b"Return-Path: <z@y>\r\nReceived: from c by d\r\nMessage-ID: <1@x>\r\nSubject: s\r\n\r\nbody\r\n";
        let c = b"Message-ID: <1@x>\r\nSubject: s\r\n\r\nother body\r\n";
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        assert!(key(a).starts_with("sha256:") && key(a).len() == 71);
    }
}
