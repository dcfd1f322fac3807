//! The fixture corpus: realistic reports with the decision the routine requires, checked field by
//! field. Every mismatch is listed before the test fails, so one run shows the whole picture.

use std::collections::BTreeMap;
use std::path::PathBuf;

use routedesk::pipeline::parse::ParseLimits;
use routedesk::pipeline::triage;
use routedesk::policy::Policy;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Expected {
    verdict: String,
    ignored_reason: Option<String>,
    class: Option<String>,
    municipality: Option<String>,
    missing: Option<Vec<String>>,
    urgent: Option<bool>,
    privacy: Option<bool>,
    reply: Option<String>,
    to: Option<Vec<String>>,
    cc: Option<Vec<String>>,
    #[allow(dead_code)]
    note: Option<String>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports")
}

#[test]
fn every_fixture_gets_the_expected_decision() {
    let text = std::fs::read_to_string(dir().join("expected.toml")).expect("expected.toml");
    let expected: BTreeMap<String, Expected> = toml::from_str(&text).expect("expected.toml parses");
    assert!(expected.len() >= 40, "the corpus has {} reports; at least 40 are required", expected.len());
    let on_disk = std::fs::read_dir(dir())
        .expect("fixture dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .count();
    assert_eq!(on_disk, expected.len(), "every .eml needs an expectation and every expectation a file");

    let policy = Policy::default_region().expect("default policy");
    let mut failures = Vec::new();
    for (file, want) in &expected {
        let raw = std::fs::read(dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let d = match triage(&raw, &policy, &ParseLimits::default()) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{file}: no decision: {e}"));
                continue;
            }
        };
        let mut diff = |field: &str, want: String, got: String| {
            if want != got {
                failures.push(format!("{file}: {field}: expected {want}, got {got}"));
            }
        };
        diff("verdict", want.verdict.clone(), if d.is_ticket() { "ticket".into() } else { "ignored".into() });
        if let Some(r) = &want.ignored_reason {
            let got = d.ignored.as_ref().map(|i| i.kind.as_str().to_string()).unwrap_or_default();
            diff("ignored_reason", r.clone(), got);
        }
        if let Some(c) = &want.class {
            diff("class", c.clone(), d.classification.class.to_string());
        }
        let routing = d.routing.as_ref();
        if let Some(m) = &want.municipality {
            diff("municipality", m.clone(), routing.and_then(|r| r.municipality.clone()).unwrap_or_default());
        }
        if let Some(m) = &want.missing {
            diff("missing", m.join(","), d.checks.missing.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(","));
        }
        if let Some(u) = want.urgent {
            diff("urgent", u.to_string(), d.classification.urgent.to_string());
        }
        if let Some(p) = want.privacy {
            diff("privacy", p.to_string(), d.classification.privacy.to_string());
        }
        if let Some(r) = &want.reply {
            diff("reply", r.clone(), d.reply().as_str().to_string());
        }
        if let Some(to) = &want.to {
            diff("to", to.join(","), routing.map(|r| routedesk::text::address::join(&r.to, ",")).unwrap_or_default());
        }
        if let Some(cc) = &want.cc {
            diff("cc", cc.join(","), routing.map(|r| routedesk::text::address::join(&r.cc, ",")).unwrap_or_default());
        }
    }
    assert!(failures.is_empty(), "{} mismatch(es):\n{}", failures.len(), failures.join("\n"));
}
