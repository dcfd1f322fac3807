//! Thumbnails of a ticket's pictures for the staff view: turned upright by their EXIF orientation
//! (a phone photo is stored on its side), scaled into a small box, and re-encoded, so a 12-megapixel
//! photo costs the page kilobytes and a TIFF, which no browser shows, still has a preview. The
//! original file is kept and offered beside it.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The box a thumbnail fits in: twice the page's 240×160, for high-density screens.
pub const BOX: (u32, u32) = (480, 320);
/// Decoding stops above these, whatever the header claims: a 16,384-pixel side and 256 MiB of
/// pixels hold any real screen or phone photo; a "decompression bomb" gets no preview.
const MAX_SIDE: u32 = 16_384;
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// A thumbnail and its media type.
#[derive(Debug)]
pub struct Thumbnail {
    pub content_type: &'static str,
    pub data: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum NoThumbnail {
    /// A format browsers show but this build does not decode (AVIF): the original serves.
    #[error("the browser shows this format itself")]
    BrowserShows,
    /// HEIC, JPEG XL, or bytes that are no picture.
    #[error("no decoder for this format")]
    Unsupported,
    #[error("the picture could not be read: {0}")]
    Unreadable(image::ImageError),
}

/// Formats every current browser shows in an `<img>`; the others get a thumbnail only.
pub fn browser_shows(format: &str) -> bool {
    matches!(format, "png" | "jpeg" | "gif" | "bmp" | "webp" | "avif")
}

/// The thumbnail of an image file whose header `image_info` read as `format` (the caller has it
/// already: it is not read twice). CPU work: call it on a blocking thread.
pub fn make(data: &[u8], format: &str) -> Result<Thumbnail, NoThumbnail> {
    let decodable = match format {
        "avif" => return Err(NoThumbnail::BrowserShows),
        "png" | "jpeg" | "gif" | "bmp" | "webp" | "tiff" => ImageFormat::from_extension(format),
        _ => None,
    };
    let Some(decodable) = decodable else { return Err(NoThumbnail::Unsupported) };
    let mut reader = ImageReader::with_format(Cursor::new(data), decodable);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(NoThumbnail::Unreadable)?;
    // A broken EXIF block leaves the picture as stored rather than costing the preview.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(NoThumbnail::Unreadable)?;
    picture.apply_orientation(orientation);
    let small = picture.thumbnail(BOX.0, BOX.1);
    let mut out = Cursor::new(Vec::new());
    // Photos and screenshots without transparency are far smaller as JPEG; the rest stays PNG.
    let content_type = if small.color().has_alpha() || format == "gif" {
        small.write_to(&mut out, ImageFormat::Png).map_err(NoThumbnail::Unreadable)?;
        "image/png"
    } else {
        DynamicImage::ImageRgb8(small.to_rgb8())
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85))
            .map_err(NoThumbnail::Unreadable)?;
        "image/jpeg"
    };
    Ok(Thumbnail { content_type, data: out.into_inner() })
}

/// The stand-in shown where there is no preview: the format's name and the catalogue's words.
pub fn placeholder(words: &str, format: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"240\" height=\"160\" viewBox=\"0 0 240 160\">\
         <rect width=\"240\" height=\"160\" fill=\"#eeeeee\"/>\
         <text x=\"120\" y=\"72\" font-family=\"sans-serif\" font-size=\"22\" text-anchor=\"middle\" fill=\"#333333\">{}</text>\
         <text x=\"120\" y=\"100\" font-family=\"sans-serif\" font-size=\"13\" text-anchor=\"middle\" fill=\"#333333\">{}</text>\
         </svg>",
        escape(&format.to_uppercase()),
        escape(words)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, format).expect("encodes");
        out.into_inner()
    }

    #[test]
    fn a_large_screenshot_becomes_a_small_jpeg_of_the_same_shape() {
        let shot = DynamicImage::new_rgb8(1920, 1080);
        let t = make(&encoded(&shot, ImageFormat::Png), "png").expect("thumbnail");
        assert_eq!(t.content_type, "image/jpeg");
        let back = image::load_from_memory(&t.data).expect("decodes");
        assert_eq!((back.width(), back.height()), (480, 270));
    }

    #[test]
    fn tiff_which_browsers_cannot_show_gets_a_thumbnail() {
        let shot = DynamicImage::new_rgb8(800, 600);
        let t = make(&encoded(&shot, ImageFormat::Tiff), "tiff").expect("thumbnail");
        let back = image::load_from_memory(&t.data).expect("decodes");
        assert_eq!((back.width(), back.height()), (427, 320));
    }

    #[test]
    fn a_header_claiming_a_huge_picture_gets_no_thumbnail() {
        // A PNG header of 100,000 × 100,000 pixels and no data: refused before any allocation.
        let mut png = encoded(&DynamicImage::new_rgb8(1, 1), ImageFormat::Png);
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(matches!(make(&png, "png"), Err(NoThumbnail::Unreadable(_))));
    }

    #[test]
    fn heic_and_jpeg_xl_have_none_and_avif_is_left_to_the_browser() {
        for format in ["heif", "jxl"] {
            assert!(matches!(make(b"\0\0\0\x18ftypheic", format), Err(NoThumbnail::Unsupported)), "{format}");
        }
        assert!(matches!(make(b"\0\0\0\x18ftypavif", "avif"), Err(NoThumbnail::BrowserShows)));
        let svg = placeholder("Ingen forhåndsvisning", "heif");
        assert!(svg.contains("HEIF") && svg.contains("Ingen forhåndsvisning"));
        assert!(placeholder("<script>", "x").contains("&lt;script&gt;"));
    }
}
