//! A screenshot is a raster image big enough to show a screen; logos, icons and tracking pixels are not.

use serde::Serialize;

use crate::pipeline::parse::Part;
use crate::policy::ScreenshotRule;

/// Above this an image header is lying (or hostile); no screen is 100,000 pixels wide.
const MAX_SIDE: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Screenshot {
    /// Index into the parsed mail's parts.
    pub part: usize,
    pub filename: Option<String>,
    pub width: u64,
    pub height: u64,
}

/// The largest qualifying image, if any.
pub fn find(parts: &[Part], rule: &ScreenshotRule) -> Option<Screenshot> {
    parts
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.image.map(|img| (i, p, img)))
        .filter(|(_, _, img)| {
            img.width >= u64::from(rule.min_width)
                && img.height >= u64::from(rule.min_height)
                && img.width <= MAX_SIDE
                && img.height <= MAX_SIDE
        })
        .max_by_key(|(_, _, img)| img.width * img.height)
        .map(|(i, p, img)| Screenshot { part: i, filename: p.filename.clone(), width: img.width, height: img.height })
}
