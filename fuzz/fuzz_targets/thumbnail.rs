//! The thumbnail of any file a mail carries, read as each raster format the staff view converts:
//! a panic, or a decoder that runs past its limits (libFuzzer's memory and time limits catch
//! those), is a bug; a thumbnail never exceeds its box.
#![no_main]

use libfuzzer_sys::fuzz_target;
use routedesk::web::thumbnail;

fuzz_target!(|data: &[u8]| {
    for format in ["png", "jpeg", "gif", "bmp", "webp", "tiff"] {
        if let Ok(t) = thumbnail::make(data, format) {
            let size = imagesize::blob_size(&t.data).expect("a thumbnail is a picture");
            assert!(size.width as u32 <= thumbnail::BOX.0 && size.height as u32 <= thumbnail::BOX.1, "{size:?}");
        }
    }
});
