//! Outlook's TNEF (`winmail.dat`, `application/ms-tnef`): Exchange wraps a mail's attachments —
//! screenshots included — and sometimes its body in this Microsoft format, which no other client
//! reads. Only what a fault report needs is taken out: each attachment's name and bytes, and the
//! plain or HTML body. Everything is bounds-checked: a hostile file ends the reading, never the
//! program.

const SIGNATURE: u32 = 0x223E_9F78;
/// At most this many attachments are taken from one TNEF file.
const MAX_ATTACHMENTS: usize = 100;

// TNEF attributes (the low half of the attribute word; the high half is the type, which writers
// do not always agree on).
const ATT_BODY: u16 = 0x800C;
const ATT_ATTACH_DATA: u16 = 0x800F;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_MSG_PROPS: u16 = 0x9003;
const ATT_ATTACHMENT: u16 = 0x9005;

// MAPI properties (ids).
const PR_BODY: u16 = 0x1000;
const PR_HTML: u16 = 0x1013;
const PR_ATTACH_DATA: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_ATTACH_MIME_TAG: u16 = 0x370E;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TnefFile {
    pub name: Option<String>,
    pub mime_type: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tnef {
    pub text: Option<String>,
    pub html: Option<String>,
    pub files: Vec<TnefFile>,
}

/// What a TNEF file holds; `None` when it is no TNEF file. A file cut short or damaged gives what
/// was read before the damage.
pub fn read(data: &[u8]) -> Option<Tnef> {
    let mut c = Cursor { data, at: 0 };
    if c.u32()? != SIGNATURE {
        return None;
    }
    c.u16()?; // legacy key
    let mut out = Tnef::default();
    let mut current: Option<TnefFile> = None;
    while let Some((attribute, value)) = c.attribute() {
        match attribute {
            ATT_ATTACH_REND_DATA => {
                if let Some(f) = current.take() {
                    out.files.push(f);
                }
                if out.files.len() >= MAX_ATTACHMENTS {
                    break;
                }
                current = Some(TnefFile::default());
            }
            ATT_ATTACH_TITLE => {
                if let Some(f) = current.as_mut() {
                    f.name = f.name.take().or_else(|| string8(value));
                }
            }
            ATT_ATTACH_DATA => {
                if let Some(f) = current.as_mut() {
                    // The MAPI data object, when there is one, is the truer copy.
                    if f.data.is_empty() {
                        f.data = value.to_vec();
                    }
                }
            }
            ATT_ATTACHMENT => {
                if let Some(f) = current.as_mut() {
                    for (id, v) in properties(value) {
                        match (id, v) {
                            (PR_ATTACH_LONG_FILENAME, Value::Text(t)) => f.name = Some(t),
                            (PR_ATTACH_FILENAME, Value::Text(t)) if f.name.is_none() => f.name = Some(t),
                            (PR_ATTACH_MIME_TAG, Value::Text(t)) => f.mime_type = Some(t.to_ascii_lowercase()),
                            (PR_ATTACH_DATA, Value::Bytes(b)) => f.data = b,
                            _ => {}
                        }
                    }
                }
            }
            ATT_BODY => out.text = out.text.take().or_else(|| string8(value)),
            ATT_MSG_PROPS => {
                for (id, v) in properties(value) {
                    match (id, v) {
                        (PR_BODY, Value::Text(t)) => out.text = Some(t),
                        (PR_HTML, Value::Text(t)) => out.html = Some(t),
                        (PR_HTML, Value::Bytes(b)) => out.html = Some(String::from_utf8_lossy(&b).into_owned()),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(f) = current {
        out.files.push(f);
    }
    out.files.retain(|f| f.name.is_some() || !f.data.is_empty());
    Some(out)
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let bytes = self.data.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Bytes of a length-prefixed value, and the padding to the next four-byte boundary.
    fn padded(&mut self, len: usize) -> Option<&'a [u8]> {
        let bytes = self.take(len)?;
        self.take((4 - len % 4) % 4)?;
        Some(bytes)
    }

    /// One TNEF attribute: level, id, length, value, checksum. The checksum is not checked: Outlook
    /// itself reads files whose checksums are wrong.
    fn attribute(&mut self) -> Option<(u16, &'a [u8])> {
        self.take(1)?; // level: message or attachment, also told by the attribute
        let id = (self.u32()? & 0xFFFF) as u16;
        let len = usize::try_from(self.u32()?).ok()?;
        let value = self.take(len)?;
        self.u16()?;
        Some((id, value))
    }
}

enum Value {
    Text(String),
    Bytes(Vec<u8>),
    Other,
}

/// The properties of a MAPI property list (`attMsgProps`, `attAttachment`), as far as it reads.
fn properties(data: &[u8]) -> Vec<(u16, Value)> {
    let mut c = Cursor { data, at: 0 };
    let mut out = Vec::new();
    let Some(count) = c.u32() else { return out };
    for _ in 0..count.min(10_000) {
        match property(&mut c) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    out
}

fn property(c: &mut Cursor<'_>) -> Option<(u16, Value)> {
    let kind = c.u16()?;
    let id = c.u16()?;
    if id >= 0x8000 {
        // A named property: its GUID, then a number or a name.
        c.take(16)?;
        if c.u32()? == 0 {
            c.u32()?;
        } else {
            let len = usize::try_from(c.u32()?).ok()?;
            c.padded(len)?;
        }
    }
    let multi = kind & 0x1000 != 0;
    let base = kind & !0x1000;
    let fixed = match base {
        0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
        0x0005 | 0x0006 | 0x0007 | 0x0014 | 0x0040 => Some(8),
        0x0048 => Some(16),
        0x0001 => Some(0),
        0x0000 | 0x001E | 0x001F | 0x0102 | 0x000D => None,
        _ => return None,
    };
    if let Some(size) = fixed {
        let n = if multi { c.u32()? } else { 1 };
        for _ in 0..n {
            c.padded(size)?;
        }
        return Some((id, Value::Other));
    }
    // Variable-length values come as a count and, for each, a length and the bytes.
    let n = c.u32()?;
    let mut first = None;
    for _ in 0..n.min(10_000) {
        let len = usize::try_from(c.u32()?).ok()?;
        let bytes = c.padded(len)?;
        first.get_or_insert(bytes);
    }
    let Some(bytes) = first else { return Some((id, Value::Other)) };
    let value = match base {
        0x001E => string8(bytes).map_or(Value::Other, Value::Text),
        0x001F => Value::Text(utf16(bytes)),
        // An embedded object starts with the interface id of what it holds.
        0x000D => Value::Bytes(bytes.get(16..).unwrap_or_default().to_vec()),
        _ => Value::Bytes(bytes.to_vec()),
    };
    Some((id, value))
}

/// An 8-bit string up to its NUL: UTF-8 when it is, else windows-1252 (Outlook's code page here).
fn string8(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or_default();
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
    String::from_utf16_lossy(&units).trim_end_matches('\0').to_string()
}

#[cfg(test)]
mod tests;
