//! The whole pipeline on arbitrary bytes: parse, check, classify, route and render the replies.
//! Any panic is a bug: hostile mail must give a decision or a clear error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use routedesk::pipeline::{parse::ParseLimits, triage};
use routedesk::policy::Policy;

static POLICY: OnceLock<Policy> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let policy = POLICY.get_or_init(|| Policy::default_region().expect("default policy is valid"));
    if let Ok(d) = triage(data, policy, &ParseLimits::default()) {
        let _ = d.reasons();
        let _ = routedesk::reply::acknowledgement(&d, "RD-2026-000001", policy, Default::default());
        let _ = routedesk::reply::request_info(&d, "RD-2026-000001", policy);
        let _ = routedesk::reply::routing(&d, "RD-2026-000001", policy, None, Default::default());
    }
});
