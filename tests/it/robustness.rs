//! Real-world MIME nobody here wrote: test messages from mail-parser and Dovecot committed in
//! `tests/fixtures/mime/` (see its README for their origin), and CPython's `test_email` data and
//! SpamAssassin's samples where installed (Debian packages `libpython3.11-testsuite`,
//! `spamassassin`; `scripts/test` installs them). Every file must get a decision or a clear error
//! from the whole pipeline, and nothing may panic.
//!
//! Extra directories can be given in `ROUTEDESK_CORPORA` (colon-separated).

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use routedesk::pipeline::parse::ParseLimits;
use routedesk::pipeline::triage;
use routedesk::policy::Policy;

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime")
}

/// The directories to run over: the committed corpus, those installed on this machine, and
/// `ROUTEDESK_CORPORA`.
fn corpora() -> Vec<PathBuf> {
    let mut dirs = vec![committed()];
    let python_test_dirs = std::process::Command::new("python3")
        .args(["-c", "import test, os; print(os.path.dirname(test.__file__))"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("test_email/data"));
    dirs.extend(python_test_dirs);
    dirs.extend(
        ["/usr/lib/python3.11/test/test_email/data", "/usr/share/doc/spamassassin/examples"].map(PathBuf::from),
    );
    if let Some(extra) = std::env::var_os("ROUTEDESK_CORPORA") {
        dirs.extend(std::env::split_paths(&extra));
    }
    let (found, missing): (Vec<PathBuf>, Vec<PathBuf>) = dirs.into_iter().partition(|d| d.is_dir());
    if !missing.is_empty() {
        // Straight to stderr, past the test harness's capture: a smaller corpus is worth seeing.
        let missing: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
        let _ = writeln!(std::io::stderr(), "robustness: corpora not installed here: {}", missing.join(", "));
    }
    let mut found = found;
    found.dedup();
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if !p.extension().is_some_and(|x| x == "json" || x == "py" || x == "gz" || x == "md")
            && !p.file_name().is_some_and(|n| n == "COPYING" || n == "LICENSE-MIT" || n == ".gitattributes")
        {
            out.push(p);
        }
    }
}

#[test]
fn real_world_mime_gets_a_decision_or_a_clear_error_and_never_panics() {
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let mut files = Vec::new();
    for d in corpora() {
        files_under(&d, &mut files);
    }
    // The committed messages are always there.
    assert!(files.len() >= 50, "only {} corpus files found", files.len());

    let (mut tickets, mut ignored, mut errors, mut panics) = (0, 0, 0, Vec::new());
    for f in &files {
        let Ok(raw) = std::fs::read(f) else { continue };
        match catch_unwind(AssertUnwindSafe(|| triage(&raw, &policy, &limits))) {
            Ok(Ok(d)) if d.is_ticket() => tickets += 1,
            Ok(Ok(_)) => ignored += 1,
            Ok(Err(e)) => {
                assert!(!e.to_string().is_empty());
                errors += 1;
            }
            Err(_) => panics.push(f.display().to_string()),
        }
    }
    eprintln!("robustness: {} files: {tickets} tickets, {ignored} ignored, {errors} clear errors", files.len());
    assert!(panics.is_empty(), "the pipeline panicked on:\n{}", panics.join("\n"));
    assert!(tickets > files.len() / 2, "most real mail should become tickets: {tickets} of {}", files.len());
}

/// Inputs the fuzzer found interesting (`fuzz/regressions/`): each must still get a decision or a
/// clear error, and never a panic.
#[test]
fn fuzz_regressions_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    assert!(files.len() >= 100, "fuzz/regressions holds {} inputs", files.len());
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let panics: Vec<String> = files
        .iter()
        .filter(|f| {
            let raw = std::fs::read(f).unwrap_or_default();
            catch_unwind(AssertUnwindSafe(|| {
                if let Ok(d) = triage(&raw, &policy, &limits) {
                    let _ = routedesk::reply::routing(&d, "RD-2026-000001", &policy, None, Default::default());
                    let _ = routedesk::reply::request_info(&d, "RD-2026-000001", &policy);
                }
            }))
            .is_err()
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(panics.is_empty(), "panics on:\n{}", panics.join("\n"));
}
