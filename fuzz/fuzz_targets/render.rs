//! What staff read of any mail: parsed, its HTML sanitised, and rendered into the ticket page's
//! report section. Any panic is a bug; and nothing that leaves the sanitiser may carry a script.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(html) = routedesk::web::render_report(data, routedesk::web::i18n::Lang::Nb.texts()) {
        let lower = html.to_ascii_lowercase();
        assert!(!lower.contains("<script"), "a script survived: {html}");
        assert!(!lower.contains("javascript:"), "a javascript: URL survived: {html}");
    }
});
