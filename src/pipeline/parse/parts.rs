//! Attachments and inline parts, with pixel sizes read from the image bytes themselves (a PNG sent
//! as `application/octet-stream` is still a PNG), and the structural limits.

use mail_parser::{ContentType, Message, MimeHeaders, PartType};
use serde::Serialize;

use super::{ParseError, ParseLimits, clean_line};

/// mail-parser decodes attached messages this deep; parts below are not looked into.
const MAX_ATTACHED_MESSAGE_DEPTH: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Lower-cased `type/subtype` as declared.
    pub content_type: String,
    pub filename: Option<String>,
    /// Decoded size in bytes.
    pub size: usize,
    /// Shown in the body (Content-Disposition: inline, or an inline image of an HTML mail).
    pub inline: bool,
    pub content_id: Option<String>,
    /// Set when the bytes are a raster image whose header could be read.
    pub image: Option<ImageInfo>,
    /// Inside an attached (forwarded) message rather than the mail itself.
    pub nested: bool,
    #[serde(skip)]
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub format: &'static str,
    pub width: u64,
    pub height: u64,
}

pub fn mime_type(ct: &ContentType<'_>) -> String {
    match &ct.c_subtype {
        Some(sub) => format!("{}/{}", ct.c_type, sub),
        None => ct.c_type.to_string(),
    }
    .to_ascii_lowercase()
}

/// Rejects messages with more parts or deeper nesting than the limits allow.
pub fn check_structure(msg: &Message<'_>, limits: &ParseLimits) -> Result<(), ParseError> {
    let mut count = 0usize;
    // (message, part id, depth); explicit stack, so hostile nesting cannot overflow ours.
    let mut stack = vec![(msg, 0usize, 0usize)];
    while let Some((m, id, depth)) = stack.pop() {
        let Some(part) = m.parts.get(id) else {
            continue;
        };
        count += 1;
        if count > limits.max_parts {
            return Err(ParseError::TooManyParts { limit: limits.max_parts });
        }
        if depth > limits.max_depth {
            return Err(ParseError::TooDeep { depth, limit: limits.max_depth });
        }
        match &part.body {
            PartType::Multipart(children) => stack.extend(children.iter().map(|c| (m, *c as usize, depth + 1))),
            PartType::Message(inner) => stack.push((inner, 0, depth + 1)),
            _ => {}
        }
    }
    Ok(())
}

/// Every attachment and inline part, including those of attached messages.
pub fn collect(msg: &Message<'_>, problems: &mut Vec<String>) -> Vec<Part> {
    let mut out = Vec::new();
    collect_into(msg, false, 0, &mut out, problems);
    out
}

fn collect_into(msg: &Message<'_>, nested: bool, depth: usize, out: &mut Vec<Part>, problems: &mut Vec<String>) {
    for part in msg.attachments() {
        let content_type = part.content_type().map_or_else(|| "application/octet-stream".to_string(), mime_type);
        let data = part.contents();
        let inline = matches!(part.body, PartType::InlineBinary(_))
            || part.content_disposition().is_some_and(|d| d.c_type.eq_ignore_ascii_case("inline"))
            || (part.content_id().is_some() && part.content_disposition().is_none());
        if part.is_encoding_problem {
            problems
                .push(format!("attachment {:?} could not be decoded cleanly", part.attachment_name().unwrap_or("?")));
        }
        out.push(Part {
            content_type,
            filename: part.attachment_name().map(clean_line).filter(|n| !n.is_empty()),
            size: data.len(),
            inline,
            content_id: part.content_id().map(clean_line),
            image: image_info(data),
            nested,
            data: data.to_vec(),
        });
        if let Some(last) = out.last().filter(|p| is_tnef(p)) {
            let inner = unwrap_tnef(last, problems);
            out.extend(inner);
        }
        if let PartType::Message(inner) = &part.body
            && depth + 1 < MAX_ATTACHED_MESSAGE_DEPTH
        {
            collect_into(inner, true, depth + 1, out, problems);
        }
    }
}

/// Outlook's `winmail.dat`: its files are the mail's attachments (screenshots included).
pub fn is_tnef(part: &Part) -> bool {
    part.content_type == "application/ms-tnef"
        || part.content_type == "application/vnd.ms-tnef"
        || part.filename.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("winmail.dat"))
}

/// The files inside a TNEF part, as parts of the mail (the TNEF part itself is kept as sent).
fn unwrap_tnef(container: &Part, problems: &mut Vec<String>) -> Vec<Part> {
    let Some(tnef) = super::tnef::read(&container.data) else {
        problems
            .push(format!("{:?} is not a readable TNEF file", container.filename.as_deref().unwrap_or("winmail.dat")));
        return Vec::new();
    };
    tnef.files
        .into_iter()
        .map(|f| {
            let image = image_info(&f.data);
            let content_type = f
                .mime_type
                .or_else(|| image.map(|i| format!("image/{}", i.format)))
                .unwrap_or_else(|| "application/octet-stream".into());
            Part {
                content_type,
                filename: f.name.map(|n| clean_line(&n)).filter(|n| !n.is_empty()),
                size: f.data.len(),
                inline: false,
                content_id: None,
                image,
                nested: container.nested,
                data: f.data,
            }
        })
        .collect()
}

/// The format and pixel size of a raster image as a person sees it, read from its header; `None`
/// for anything else (including SVG, which is a document, not a picture of a screen). A phone
/// stores an upright photo on its side with an EXIF orientation that turns it (5–8 swap width and
/// height); HEIF's own `irot` turn is already applied by `imagesize`, and its EXIF is ignored, as
/// the HEIF standard says.
pub fn image_info(data: &[u8]) -> Option<ImageInfo> {
    use imagesize::{Compression, ImageType as T};
    let format = match imagesize::image_type(data).ok()? {
        T::Png => "png",
        T::Jpeg => "jpeg",
        T::Gif => "gif",
        T::Bmp => "bmp",
        T::Webp => "webp",
        T::Tiff => "tiff",
        T::Heif(Compression::Av1) => "avif",
        T::Heif(_) => "heif",
        T::Jxl => "jxl",
        _ => return None,
    };
    let size = imagesize::blob_size(data).ok()?;
    let (width, height) = (size.width as u64, size.height as u64);
    let turned = matches!(format, "jpeg" | "tiff" | "webp" | "png") && exif_orientation(data).is_some_and(|o| o >= 5);
    Some(if turned { ImageInfo { format, width: height, height: width } } else { ImageInfo { format, width, height } })
}

/// EXIF `Orientation` (1–8), if the image carries one.
fn exif_orientation(data: &[u8]) -> Option<u32> {
    let exif = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(data)).ok()?;
    let field = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?;
    field.value.get_uint(0).filter(|o| (1..=8).contains(o))
}
